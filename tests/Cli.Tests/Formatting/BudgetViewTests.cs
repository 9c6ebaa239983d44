using LogQuota.Cli.Commands;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.Formatting;

public sealed class BudgetViewTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 14, 0, 0, TimeSpan.Zero);

    private static readonly ProjectBudgetReport Report = new(
        Start,
        [new ProjectRepeatedLine("loss=nan", 4723, 0, "train"), new ProjectRepeatedLine("step \u001b[2J", 12, 3, null)],
        [30_000, 120],
        30_120,
        28_400,
        15,
        [new DroppedText("train", string.Concat(Enumerable.Range(1, 12).Select(i => $"line {i}\n"))), new DroppedText("eval", "Traceback\u0007\n")]);

    private static readonly ProjectInfo Project = new(
        "research", Start, ProjectRole.Manager, [new ProjectMember("alice", ProjectRole.Admin), new ProjectMember("bob", ProjectRole.User)],
        new ProjectBudgetStatus(1 << 20, LogQuotaAction.Truncate, 524_288, Start.AddHours(1), Start.AddHours(2), 0, null, Report));

    [Fact]
    public void Show_PrintsTheMembers_TheBarThisHour_AndTheLastCrossedHoursEvidence_WithTheTailCut()
    {
        var lines = ProjectsCommand.ShowLines(Project, wholeTail: false).ToList();

        Assert.Equal(
            [
                "project:    research (your role: manager)",
                "members:    alice (admin), bob (user)",
                "log budget: 1.0MiB/h, action truncate",
                "  [###############---------------] 512.0KiB of 1.0MiB (50%) this hour, resets at 16:00:00 UTC",
                "  dropped:  0B this hour",
                "  exceeded: not this hour",
                "  in the hour from 14:00:00 UTC, the last that crossed:",
                "    29.4KiB stored, 28400 bytes (15 lines) dropped",
                "    top repeated lines:",
                "          4723×  loss=nan  (run train)",
                "          9–12×  step \\x1b[2J  (run deleted)",
                "    bytes per minute: 29.3KiB 120B",
                "    the last 10 of the 13 lines kept of what was dropped (98B; --dropped shows them all):",
                "      [train] line 4",
                "      [train] line 5",
                "      [train] line 6",
                "      [train] line 7",
                "      [train] line 8",
                "      [train] line 9",
                "      [train] line 10",
                "      [train] line 11",
                "      [train] line 12",
                "      [eval] Traceback\\x07",
            ],
            lines);
    }

    [Fact]
    public void Show_WithDropped_PrintsEveryKeptLine_AndWithoutABudget_SaysSo()
    {
        var lines = ProjectsCommand.ShowLines(Project, wholeTail: true).ToList();
        Assert.Contains("    the last 98B dropped, 13 lines:", lines);
        Assert.Contains("      [train] line 1", lines);

        Assert.Equal("log budget: none", ProjectsCommand.ShowLines(Project with { LogBudget = null }, wholeTail: false).Last());
    }
}
