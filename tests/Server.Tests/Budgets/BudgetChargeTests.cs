using System.Text;
using LogQuota.Server.Budgets;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Budgets;

/// <summary>The charge of one page against a project's hour, alone: cuts, markers once per job, warnings once per hour, a new hour.</summary>
public sealed class BudgetChargeTests
{
    private static readonly DateTimeOffset Hour = new(2026, 12, 6, 11, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Truncate_StoresUpToTheLastWholeLineThatFits_ThenDropsEveryJob_WithOneMarkerEach()
    {
        var rule = new BudgetRule("research", 25, LogQuotaAction.Truncate, [80]);
        var hour = new ProjectBudgetHourEntity { HourStart = Hour };
        var (a, b) = (Job(), Job());

        var first = BudgetCharge.Apply(rule, hour, a, [Log(1, "0123456789\n0123456789\n0123456789\n")], null, Hour.AddMinutes(1));
        var second = BudgetCharge.Apply(rule, hour, b, [Log(5, "wxyz\n"), Log(6, "y\n")], null, Hour.AddMinutes(2));
        var third = BudgetCharge.Apply(rule, hour, a, [Log(9, "more\n")], 10, Hour.AddMinutes(3));

        Assert.Equal("0123456789\n0123456789\n", Stdout(first));
        Assert.Equal(22, hour.UsedBytes);
        Assert.Equal(11 + 7 + 5, hour.DroppedBytes);
        Assert.Equal("", Stdout(second) + Stdout(third));
        Assert.Contains("[logquota] warning: 88% of project research's log budget used (warning at 80%): 22 of 25 bytes", Markers(first), StringComparison.Ordinal);
        Assert.Contains("[logquota] log budget of project research (25 B) for this hour reached; output of every job of the project is dropped until 12:00:00 UTC\n", Markers(first), StringComparison.Ordinal);
        Assert.Equal(["[logquota] log budget of project research (25 B) for this hour reached; output of every job of the project is dropped until 12:00:00 UTC\n"], MarkerLines(second));
        Assert.Equal(["[logquota] 16 bytes (2 lines) were dropped by the log budget of project research\n"], MarkerLines(third));
        Assert.Single(first.Events.Concat(second.Events), e => e is { Type: BudgetEventTypes.LogBudgetExceeded, ProjectWide: true });
        Assert.False(first.Kill || second.Kill);
    }

    [Fact]
    public void Kill_KillsTheJobThatCrosses_AndEachThatWritesAfter()
    {
        var rule = new BudgetRule("research", 10, LogQuotaAction.Kill, []);
        var hour = new ProjectBudgetHourEntity { HourStart = Hour };
        var (a, b) = (Job(), Job());

        var crossing = BudgetCharge.Apply(rule, hour, a, [Log(1, "12345\n"), Log(2, "67890\n")], null, Hour);
        var after = BudgetCharge.Apply(rule, hour, b, [Log(3, "zzzzz\n")], null, Hour);
        var again = BudgetCharge.Apply(rule, hour, a, [Log(4, "late\n")], null, Hour);

        Assert.True(crossing.Kill);
        Assert.True(after.Kill);
        Assert.Equal("12345\n", Stdout(crossing));
        Assert.Equal(["[logquota] log budget of project research (10 B) for this hour reached; the job is being killed\n"], MarkerLines(crossing));
        Assert.Equal(a.BudgetDroppingHour, Hour);
        Assert.Empty(again.Logs);
    }

    [Fact]
    public void Observe_StoresEverything_AndRecordsTheCrossingOnce()
    {
        var rule = new BudgetRule("research", 10, LogQuotaAction.Observe, [50]);
        var hour = new ProjectBudgetHourEntity { HourStart = Hour };
        var job = Job();

        var page = BudgetCharge.Apply(rule, hour, job, [Log(1, "123456\n"), Log(2, "789012\n"), Log(3, "more\n")], null, Hour);

        Assert.Equal("123456\n789012\nmore\n", Stdout(page));
        Assert.Equal(19, hour.UsedBytes);
        Assert.Equal(2, page.Events.Count(e => e.ProjectWide));
        Assert.Single(page.Events, e => e.Type == BudgetEventTypes.LogBudgetExceeded);
        Assert.Contains("observe only: nothing is dropped", Markers(page), StringComparison.Ordinal);
        Assert.False(page.Kill);
    }

    [Fact]
    public void ANewHour_StoresAgain_AfterReportingTheDrops()
    {
        var rule = new BudgetRule("research", 4, LogQuotaAction.Truncate, []);
        var job = Job();
        BudgetCharge.Apply(rule, new ProjectBudgetHourEntity { HourStart = Hour }, job, [Log(1, "abc\n"), Log(2, "dropped\n")], null, Hour);

        var next = BudgetCharge.Apply(rule, new ProjectBudgetHourEntity { HourStart = Hour.AddHours(1) }, job, [Log(3, "new\n")], null, Hour.AddHours(1));

        Assert.Equal("new\n", Stdout(next));
        Assert.Equal(
            ["[logquota] 8 bytes (1 lines) were dropped by the log budget of project research\n", "[logquota] a new hour of the log budget began at 12:00:00 UTC; output is stored again\n"],
            MarkerLines(next));
        Assert.Null(job.BudgetDroppingHour);
    }

    [Theory]
    [InlineData("ab\ncd\n", 4, false, 3)]
    [InlineData("abcdef", 4, false, 0)]
    [InlineData("abcdef", 4, true, 4)]
    [InlineData("aé", 2, true, 1)]
    [InlineData("ab", 5, false, 2)]
    public void Cut_KeepsWholeLines_OrWholeCharactersInAnEmptyHour(string text, long allowed, bool hourEmpty, int expected) =>
        Assert.Equal(expected, BudgetCharge.Cut(Encoding.UTF8.GetBytes(text), allowed, hourEmpty));

    private static JobEntity Job() => new() { Id = Guid.NewGuid(), Spec = new JobSpec(["true"]), Status = JobStatus.Running };

    private static LogEvent Log(long timestamp, string text) => new(timestamp, Encoding.UTF8.GetBytes(text));

    private static string Stdout(BudgetOutcome outcome) =>
        Encoding.UTF8.GetString([.. outcome.Logs.Where(l => l.LogSource == LogSource.Stdout).SelectMany(l => l.Message)]);

    private static string Markers(BudgetOutcome outcome) => string.Concat(MarkerLines(outcome));

    private static List<string> MarkerLines(BudgetOutcome outcome) =>
        [.. outcome.Logs.Where(l => l.LogSource == LogSource.Runner).Select(l => Encoding.UTF8.GetString(l.Message))];
}
