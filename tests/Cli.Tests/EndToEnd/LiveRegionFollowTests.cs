using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// <c>logs -f</c> against the real server, whose runner is scripted to show a live region: on a terminal it is drawn
/// and erased; piped, the output is exactly the stored bytes.
/// </summary>
public sealed class LiveRegionFollowTests
{
    private const string Live = "epoch 1/2  50%|#####     |\nbatch 7/10  70%|#######   |";
    private const string EraseTwoRows = "\r\e[2K\e[1A\e[2K";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task FollowPiped_WritesExactlyTheStoredBytes_NeverTheLiveRegion()
    {
        await using var scripted = await ScriptedServer.StartAsync();
        var output = await FollowAsync(scripted, "piped-live", stdoutIsTerminal: false);

        Assert.Equal("line-1\nline-2\nline-3\nlast-1\n", output);
    }

    [Fact]
    public async Task FollowOnATerminal_DrawsTheLiveRegionBelowTheStoredLines_AndErasesItAtTheEnd()
    {
        await using var scripted = await ScriptedServer.StartAsync();
        var output = await FollowAsync(scripted, "tty-live", stdoutIsTerminal: true);

        Assert.StartsWith("line-1\nline-2\nline-3\n" + Live, output, StringComparison.Ordinal);
        Assert.Contains(EraseTwoRows + "last-1\n", output, StringComparison.Ordinal);

        // The live region may have been drawn again below the last line before the run was seen ended; erased either way.
        Assert.True(
            output.EndsWith("last-1\n", StringComparison.Ordinal) || output.EndsWith("last-1\n" + Live + EraseTwoRows, StringComparison.Ordinal),
            output);
    }

    [Fact]
    public async Task FollowInterrupted_OnATerminal_LeavesTheLiveRegionShown_WithTheCursorOnTheNextRow()
    {
        await using var scripted = await ScriptedServer.StartAsync();
        scripted.Runner.AddState(JobState.Running);
        scripted.Runner.AddLogs(1, "line");
        scripted.Runner.Live = Live;
        await scripted.SubmitAsync("left-live");
        await scripted.WaitForLiveAsync("left-live", Live);

        using var cli = new CliProcess(scripted.Server.CliEnvironment, stdoutIsTerminal: true);
        cli.Start("logs", "-f", "left-live");
        await cli.WaitForOutputAsync(Live, Timeout);
        cli.Interrupt();
        var result = await cli.WaitAsync(Timeout);

        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Equal("line-1\n" + Live + "\n", result.StdoutText);
    }

    [Fact]
    public async Task LogsWithoutFollow_OnATerminal_PrintsTheStoredLinesOnly()
    {
        await using var scripted = await ScriptedServer.StartAsync();
        scripted.Runner.AddState(JobState.Running);
        scripted.Runner.AddLogs(2, "line");
        scripted.Runner.Live = Live;
        await scripted.SubmitAsync("plain-live");
        await scripted.WaitForLiveAsync("plain-live", Live);

        using var cli = new CliProcess(scripted.Server.CliEnvironment, stdoutIsTerminal: true);
        cli.Start("logs", "plain-live");
        var result = await cli.WaitAsync(Timeout);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("line-1\nline-2\n", result.StdoutText);
    }

    /// <summary>Follows a run that shows <see cref="Live"/> while three lines are stored, then stores one more and ends.</summary>
    private static async Task<string> FollowAsync(ScriptedServer scripted, string runName, bool stdoutIsTerminal)
    {
        scripted.Runner.AddState(JobState.Running);
        scripted.Runner.AddLogs(3, "line");
        scripted.Runner.Live = Live;
        await scripted.SubmitAsync(runName);
        await scripted.WaitForLiveAsync(runName, Live);

        using var cli = new CliProcess(scripted.Server.CliEnvironment, stdoutIsTerminal: stdoutIsTerminal);
        cli.Start("logs", "-f", runName);

        // The follower has read a page that carries the live region (it was stored before the CLI started).
        await cli.WaitForOutputAsync("line-3\n", Timeout);
        await Task.Delay(LogQuota.Cli.Logs.LogFollower.PollInterval * 2);

        scripted.Runner.AddLogs(1, "last");
        scripted.Runner.AddState(JobState.Done, exitStatus: 0);
        var result = await cli.WaitAsync(Timeout);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StdoutText;
    }
}
