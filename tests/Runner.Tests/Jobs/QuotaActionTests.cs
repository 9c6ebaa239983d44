using System.Diagnostics;
using System.Globalization;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>The three quota actions, the markers and the kill grace, on real jobs on a real runner.</summary>
public sealed class QuotaActionTests : IAsyncLifetime
{
    private const string Seq5000 = "seq 1 5000";

    /// <summary>The whole lines of <c>seq 1 5000</c> that fit in 1000 bytes.</summary>
    private static readonly string Fits1000 = FitsIn(1000);

    private RunnerHost _runner = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _runner = await RunnerHost.StartAsync();
        _work = Directory.CreateTempSubdirectory("logquota-action-test-").FullName;

        // A root runner runs each job under a uid of its own (SPEC §7): the jobs write their checkpoints here as that uid.
        Isolation.Privileged.OpenToJobs(_work);
    }

    public async Task DisposeAsync()
    {
        await _runner.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private static JobSpec Spec(string command, long quota, LogQuotaAction action, int grace = 0, int[]? warnAt = null, string? workingDir = null) =>
        new([command], WorkingDir: workingDir, LogQuotaHour: quota, LogQuotaAction: action, LogQuotaWarnAt: warnAt ?? [], LogQuotaKillGrace: grace);

    [Fact]
    public async Task Kill_StoresWhatFits_ThenTheMarker_AndEndsFailed()
    {
        var result = await _runner.RunAsync(Spec(Seq5000, 1000, LogQuotaAction.Kill, warnAt: [50]));

        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.Equal(Fits1000, result.Text);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour);
        // One read may fill the quota at once: the warning then names the share used and its threshold.
        Assert.Matches(@"^\[logquota\] warning: (50% of the log quota used|\d+% of the log quota used \(warning at 50%\)): ", result.RunnerText);
        Assert.EndsWith("[logquota] log quota of 1000 B for this hour reached; the job is being killed\n", result.RunnerText, StringComparison.Ordinal);
        Assert.Equal([JobEventTypes.LogQuotaWarning, JobEventTypes.LogQuotaExceeded], result.Events.Select(e => e.Type));
        Assert.NotNull(result.Quota!.ExceededAt);
        Assert.Equal(LogQuotaAction.Kill, result.Quota.Action);
        Assert.True(result.Final.Timestamp > result.Logs[^1].Timestamp);
    }

    [Fact]
    public async Task Truncate_TheJobRunsToItsEnd_AndTheDroppedTailIsStoredAfterAMarker()
    {
        var result = await _runner.RunAsync(Spec(Seq5000 + "; echo finished", 1000, LogQuotaAction.Truncate));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(0, result.Final.ExitStatus);
        Assert.Equal(Fits1000, result.Text);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour); // markers and the tail are never counted

        var all = string.Concat(Enumerable.Range(1, 5000).Select(i => $"{i}\n")) + "finished\n";
        var dropped = all.Length - Fits1000.Length;
        var markers = result.RunnerText.Split('\n').Where(l => l.StartsWith("[logquota] ", StringComparison.Ordinal)).ToList();
        Assert.StartsWith("[logquota] log quota of 1000 B for this hour reached; output is dropped until ", markers[0], StringComparison.Ordinal);
        Assert.Equal($"[logquota] {dropped} bytes ({5000 - 277 + 1} lines) were dropped; they follow", markers[1]);
        Assert.EndsWith("4999\n5000\nfinished\n", result.AllText, StringComparison.Ordinal);
        Assert.True(result.RunnerText.Length <= (64 * 1024) + 1024, "the tail is bounded");
        Assert.Equal(dropped, result.Quota!.DroppedBytes);
        Assert.Equal(dropped, result.Quota.Report!.DroppedBytes);
        Assert.Equal([JobEventTypes.LogQuotaExceeded, JobEventTypes.LogTruncated], result.Events.Select(e => e.Type));
    }

    [Fact]
    public async Task Truncate_EndsByTheJobsOwnExitStatus()
    {
        var result = await _runner.RunAsync(Spec(Seq5000 + "; exit 3", 1000, LogQuotaAction.Truncate));

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.ContainerExitedWithError, result.Final.TerminationReason);
        Assert.Equal(3, result.Final.ExitStatus);
        Assert.True(result.Quota!.DroppedBytes > 0);
    }

    [Fact]
    public async Task Observe_StoresEverything_AndRecordsTheCrossing()
    {
        var result = await _runner.RunAsync(Spec(Seq5000, 1000, LogQuotaAction.Observe, warnAt: [80]));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(string.Concat(Enumerable.Range(1, 5000).Select(i => $"{i}\n")), result.Text);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour);
        Assert.Contains("[logquota] log quota of 1000 B for this hour reached; observe only: nothing is dropped\n", result.RunnerText, StringComparison.Ordinal);
        Assert.Equal([JobEventTypes.LogQuotaWarning, JobEventTypes.LogQuotaExceeded], result.Events.Select(e => e.Type));
        Assert.NotNull(result.Quota!.ExceededAt);
        Assert.Equal(0, result.Quota.DroppedBytes);
        Assert.NotNull(result.Quota.Report);
    }

    [Fact]
    public async Task KillGrace_AJobThatTrapsSigterm_SavesItsCheckpoint_AndIsGone()
    {
        var command = "trap 'echo saved > checkpoint; exit 0' TERM; while true; do echo spam; done";
        var result = await _runner.RunAsync(Spec(command, 1000, LogQuotaAction.Kill, grace: 30, workingDir: _work));

        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.Equal("saved\n", await File.ReadAllTextAsync(Path.Combine(_work, "checkpoint")));
        Assert.True(result.Bytes.Length <= 1000);
        Assert.Contains("SIGTERM now, SIGKILL in 30 s", result.RunnerText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KillGrace_AJobThatIgnoresSigterm_IsKilledWhenTheGraceEnds()
    {
        var command = "trap '' TERM; sleep 1000 & echo $! > bg.pid; while true; do echo spam; done";
        var clock = Stopwatch.StartNew();
        var result = await _runner.RunAsync(Spec(command, 1000, LogQuotaAction.Kill, grace: 2, workingDir: _work));

        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"killed after {clock.Elapsed}, before the grace ended");
        Assert.True(result.Bytes.Length <= 1000, "output during the grace is dropped");
        Assert.True(result.Quota!.DroppedBytes > 0, "output during the grace is read and counted as dropped");
        Assert.Equal(result.Quota.DroppedBytes, result.Quota.Report!.DroppedBytes); // one bucket: its report counts what the job's total counts
        var pid = int.Parse((await File.ReadAllTextAsync(Path.Combine(_work, "bg.pid"))).Trim(), CultureInfo.InvariantCulture);
        Assert.False(Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal),
            $"process {pid} survived the kill after the grace");
    }

    private static string FitsIn(int quota)
    {
        var all = string.Concat(Enumerable.Range(1, 5000).Select(i => $"{i}\n"));
        return all[..(all[..quota].LastIndexOf('\n') + 1)];
    }
}
