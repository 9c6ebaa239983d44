using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// The real CLI process in a real terminal (a 120×30 tmux pane), following a run through the real server while the
/// scripted runner's live region changes: what a person sees, row by row.
/// </summary>
public sealed class LiveRegionInTmuxTests
{
    private const int Width = 120;
    private const int Height = 30;

    private static readonly string[] Stored = ["stored-1", "stored-2", "stored-3"];
    private static readonly string[] FirstFrame = ["epoch 1/2  10%|#         |", "batch 1/10  10%|#         |"];
    private static readonly string[] SecondFrame = ["epoch 1/2  60%|######    |", "batch 6/10  60%|######    |"];
    private static readonly string[] ThirdFrame = ["epoch 2/2  20%|##        |", "batch 2/10  20%|##        |", new string('x', 300)];
    private static readonly string[] FourthFrame = ["epoch 2/2  90%|######### |"];

    // Over 60 s beside a CPU hog (67.6 s measured in .ci/stress), with no fixed wait: per case the real server starts
    // in the test's process (a new database's migrations) beside a fake runner, the CLI starts as a .NET process in a
    // tmux pane, and five screens are awaited in turn, each polled with a new tmux process every 100 ms.
    [SkippableTheory]
    [InlineData("logs")]
    [InlineData("run")]
    public async Task LiveRegion_IsDrawnBelowTheStoredLines_RedrawnInPlace_AndGoneWhenTheRunEnds(string command)
    {
        var unavailable = TmuxPane.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        await using var scripted = await ScriptedServer.StartAsync();
        var runName = $"tmux-{command}";
        scripted.Runner.AddState(JobState.Running);
        scripted.Runner.AddLogs(3, "stored");
        scripted.Runner.Live = Text(FirstFrame);
        string[] header = [];
        string[] args = ["run", "--name", runName, "--no-code", "--", "the scripted job"];
        if (command == "logs")
        {
            await scripted.SubmitAsync(runName);
            await scripted.WaitForLiveAsync(runName, Text(FirstFrame));
            args = ["logs", "-f", runName];
        }
        else
        {
            header = [$"run {runName} submitted (log quota 50.0MiB/h)"];
        }

        using var pane = TmuxPane.Start(TmuxPane.CliScript(scripted.Server.CliEnvironment, args), Width, Height);

        await ShowsAsync(pane, [.. header, .. Stored, .. FirstFrame]);

        // A new frame takes the rows of the old one: no copy of it is left anywhere on screen.
        scripted.Runner.Live = Text(SecondFrame);
        await ShowsAsync(pane, [.. header, .. Stored, .. SecondFrame]);

        // A new stored line goes where the live region was, and the region (longer now) comes back below it; a line
        // wider than the pane is wrapped onto rows of one column less, never cut.
        scripted.Runner.AddLogs(1, "more");
        scripted.Runner.Live = Text(ThirdFrame);
        await ShowsAsync(pane, [.. header, .. Stored, "more-1", ThirdFrame[0], ThirdFrame[1], new string('x', Width - 1), new string('x', Width - 1), new string('x', 300 - (2 * (Width - 1)))]);

        // A shorter region erases every row of the longer one.
        scripted.Runner.Live = Text(FourthFrame);
        await ShowsAsync(pane, [.. header, .. Stored, "more-1", .. FourthFrame]);

        // The run ends: its last line is stored, and the live region is gone from the screen.
        scripted.Runner.AddLogs(1, "final");
        scripted.Runner.AddState(JobState.Done, exitStatus: 0);
        string[] footer = command == "run" ? [$"run {runName} done: exited (0)", "[exit 0]"] : ["[exit 0]"];
        await ShowsAsync(pane, [.. header, .. Stored, "more-1", "final-1", .. footer]);
    }

    [SkippableTheory]
    [InlineData("logs")]
    [InlineData("run")]
    public async Task ABarWiderThanThePane_KeepsItsCounter_AndResizingLeavesNoRepeatedRows(string command)
    {
        var unavailable = TmuxPane.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        await using var scripted = await ScriptedServer.StartAsync();
        var runName = $"wide-{command}";
        scripted.Runner.AddState(JobState.Running);
        scripted.Runner.AddLogs(2, "stored");
        string Bar(int percent) => $"train {percent,3}%|{new string('#', percent)}{new string(' ', 100 - percent)}| {percent * 10}/1000 [00:12<00:34, 8.1it/s, loss=0.{percent:D3}]";
        scripted.Runner.Live = Bar(10);
        string[] header = [];
        string[] args = ["run", "--name", runName, "--no-code", "--", "the scripted job"];
        if (command == "logs")
        {
            await scripted.SubmitAsync(runName);
            await scripted.WaitForLiveAsync(runName, Bar(10));
            args = ["logs", "-f", runName];
        }
        else
        {
            header = [$"run {runName} submitted (log quota 50.0MiB/h)"];
        }

        using var pane = TmuxPane.Start(TmuxPane.CliScript(scripted.Server.CliEnvironment, args), 100, 30);

        // A 150-column bar in a 100-column pane: wrapped, its counter and loss on the second row.
        await ShowsAsync(pane, [.. header, "stored-1", "stored-2", .. Wrapped(Bar(10), 99)]);

        // Narrower, then wider, each with a new frame: the bar's rows are redrawn at the new width, none left behind.
        pane.Resize(70, 30);
        scripted.Runner.Live = Bar(40);
        await ShowsAsync(pane, [.. header, "stored-1", "stored-2", .. Wrapped(Bar(40), 69)]);
        pane.Resize(120, 30);
        scripted.Runner.Live = Bar(80);
        await ShowsAsync(pane, [.. header, "stored-1", "stored-2", .. Wrapped(Bar(80), 119)]);

        // Narrowed (the same frame is redrawn at the new width: rows of 49 cells, not tmux's own rewrap at 50), then
        // widened, then a new frame: it replaces exactly the bar's rows, at the width the terminal has then. tmux keeps
        // the rows that scrolled up while narrow in its history, so the screen is compared with its history.
        pane.Resize(50, 30);
        await pane.WaitForAsync(screen => screen.Any(row => row.StartsWith("train", StringComparison.Ordinal) && row.Length == 49), "the bar redrawn at 50 columns");
        pane.Resize(100, 30);
        scripted.Runner.Live = Bar(90);
        await WithHistoryAsync(pane, [.. header, "stored-1", "stored-2", .. Wrapped(Bar(90), 99)]);

        scripted.Runner.AddState(JobState.Done, exitStatus: 0);
        string[] footer = command == "run" ? [$"run {runName} done: exited (0)", "[exit 0]"] : ["[exit 0]"];
        await WithHistoryAsync(pane, [.. header, "stored-1", "stored-2", .. footer]);
    }

    /// <summary>Waits until the pane's history and screen together are exactly <paramref name="rows"/>: nothing lost, nothing repeated.</summary>
    private static async Task WithHistoryAsync(TmuxPane pane, string[] rows) =>
        await pane.WaitForAsync(screen => screen.SequenceEqual(rows), $"with its history, exactly these rows:\n{string.Join('\n', rows)}\n--- but showed", withHistory: true);

    private static string[] Wrapped(string line, int columns) =>
        [.. line.Chunk(columns).Select(chunk => new string(chunk).TrimEnd())];

    /// <summary>Waits until the pane shows exactly <paramref name="rows"/>, top to bottom, and nothing else.</summary>
    private static async Task ShowsAsync(TmuxPane pane, string[] rows) =>
        await pane.WaitForAsync(screen => screen.SequenceEqual(rows), $"exactly these rows:\n{string.Join('\n', rows)}\n--- but showed");

    private static string Text(string[] lines) => string.Join('\n', lines);
}
