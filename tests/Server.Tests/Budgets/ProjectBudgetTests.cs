using System.Text;
using LogQuota.Server.Budgets;
using LogQuota.Server.Configuration;
using LogQuota.Shared.Contracts;
using Xunit.Abstractions;

namespace LogQuota.Server.Tests.Budgets;

/// <summary>
/// A project's hourly log budget through real servers, a real runner and real jobs: three jobs of one project write
/// together across a 1 MiB budget while a job of another project writes as much; on SQLite, and on PostgreSQL with two
/// replicas sharing the work. What is stored never passes the budget (the overshoot is measured: stored minus budget).
/// </summary>
public sealed class ProjectBudgetTests(ITestOutputHelper output)
{
    private const long Budget = 1 << 20;

    /// <summary>Bytes each job writes: 150 times 40 lines of 100 bytes, 20 ms apart, so the three write side by side.</summary>
    private const long PerJob = 150 * 40 * 100;

    private const string Writer =
        "for i in $(seq 1 150); do yes \"$(printf '%099d' $i)\" | head -n 40; sleep 0.02; done; echo last words";

    public static TheoryData<DatabaseProvider, int, LogQuotaAction> Cases() => new()
    {
        { DatabaseProvider.Sqlite, 1, LogQuotaAction.Kill },
        { DatabaseProvider.Sqlite, 1, LogQuotaAction.Truncate },
        { DatabaseProvider.Sqlite, 1, LogQuotaAction.Observe },
        { DatabaseProvider.Postgres, 2, LogQuotaAction.Kill },
        { DatabaseProvider.Postgres, 2, LogQuotaAction.Truncate },
    };

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public async Task ThreeJobs_WritingTogether_AcrossA1MiBBudget_StoreWhatTheActionSays(DatabaseProvider provider, int replicas, LogQuotaAction action)
    {
        // The budget counts per clock hour, so jobs that write across the hour's turn start a new count midway. That
        // attempt proves nothing and is made again, in a new world, within the new hour (a run takes well under an hour:
        // it skipped instead once in .ci/stress, run 3 on 2279ac3, at 18:00 UTC).
        if (!await WritesWithinOneHourAsync(provider, replicas, action))
        {
            output.WriteLine("The hour changed while the jobs wrote: the budget's count restarted midway; again, within the new hour.");
            Assert.True(await WritesWithinOneHourAsync(provider, replicas, action), "the hour changed during both attempts");
        }
    }

    /// <summary>One attempt, asserting everything; false, before any assertion, when the clock hour turned meanwhile.</summary>
    private async Task<bool> WritesWithinOneHourAsync(DatabaseProvider provider, int replicas, LogQuotaAction action)
    {
        await using var world = await BudgetWorld.StartAsync(provider, replicas);
        var hour = ProjectBudgets.HourOf(DateTimeOffset.UtcNow);
        await world.CreateProjectAsync(new { name = "research", log_budget_hour = Budget, log_budget_action = WireNames.Of(action) });
        await world.CreateProjectAsync(new { name = "other" });

        string[] names = ["one", "two", "three"];
        for (var i = 0; i < names.Length; i++)
        {
            await BudgetWorld.SubmitAsync(world.Clients[i % world.Clients.Count], "research", names[i], Writer);
        }

        await BudgetWorld.SubmitAsync(world.Clients[^1], "other", "bystander", Writer);
        var runs = new List<RunDetails>();
        foreach (var name in names)
        {
            runs.Add(await world.WaitForEndAsync("research", name));
        }

        var bystander = await world.WaitForEndAsync("other", "bystander");
        if (ProjectBudgets.HourOf(DateTimeOffset.UtcNow) != hour)
        {
            return false;
        }

        var logs = new Dictionary<string, List<RunLogEvent>>();
        foreach (var name in names)
        {
            logs[name] = await world.LogsAsync("research", name);
        }

        var stored = logs.Values.Sum(l => StdoutBytes(l));
        var project = await world.GetProjectAsync("research");
        var budget = project.LogBudget!;
        output.WriteLine($"{provider} x{replicas}, {action}: {stored} bytes stored of a {Budget}-byte budget (overshoot {stored - Budget}); {budget.DroppedBytesHour} dropped");

        // Every stored byte is counted once, by whichever replica stored it.
        Assert.Equal(stored, budget.UsedBytesHour);
        Assert.Equal(Budget, budget.Limit);
        Assert.Equal(action, budget.Action);
        Assert.NotNull(budget.ExceededAt);
        Assert.Equal(hour, budget.HourStartedAt);
        Assert.Single(project.Events!, e => e.Type == BudgetEventTypes.LogBudgetExceeded);
        Assert.Contains(project.Events!, e => e.Type == BudgetEventTypes.LogBudgetWarning &&
            (e.Message.StartsWith("80% ", StringComparison.Ordinal) || e.Message.Contains("(warning at 80%)", StringComparison.Ordinal)));

        switch (action)
        {
            case LogQuotaAction.Kill:
                Assert.True(stored <= Budget, $"{stored} bytes stored past a {Budget}-byte budget");
                Assert.Contains(runs, r => r is { Status: RunStatus.Failed, Error: "log budget exceeded" });
                Assert.All(runs, r => Assert.True(r.Status == RunStatus.Done || r.Error == "log budget exceeded", $"{r.RunName}: {r.Status} {r.Error}"));
                Assert.Contains(logs.Values, l => RunnerText(l).Contains("[logquota] log budget of project research (1.0 MiB) for this hour reached; the job is being killed\n", StringComparison.Ordinal));
                break;
            case LogQuotaAction.Truncate:
                Assert.True(stored <= Budget, $"{stored} bytes stored past a {Budget}-byte budget");
                Assert.Equal(3 * PerJob + 3 * "last words\n".Length - stored, budget.DroppedBytesHour);
                foreach (var run in runs)
                {
                    // Each keeps running to its own end; one whose output was all stored before the crossing has no marker.
                    Assert.Equal((RunStatus.Done, "exited (0)"), (run.Status, run.StatusMessage));
                    var text = RunnerText(logs[run.RunName]);
                    var cut = StdoutBytes(logs[run.RunName]) < PerJob + "last words\n".Length;
                    Assert.Equal(cut ? 1 : 0, Count(text, "for this hour reached; output of every job of the project is dropped until"));
                    if (cut)
                    {
                        Assert.Matches(@"\[logquota\] \d+ bytes \(\d+ lines\) were dropped by the log budget of project research\n", text);
                        Assert.Contains(run.Events, e => e.Type == JobEventTypes.LogTruncated);
                        Assert.DoesNotContain("last words", StdoutText(logs[run.RunName]), StringComparison.Ordinal);
                    }
                }

                Assert.True(runs.Count(r => StdoutBytes(logs[r.RunName]) < PerJob) >= 2, "a 1 MiB budget cuts at least two of three 600 kB jobs");
                break;
            case LogQuotaAction.Observe:
                Assert.Equal(3 * (PerJob + "last words\n".Length), stored);
                Assert.All(runs, r => Assert.Equal(RunStatus.Done, r.Status));
                Assert.Equal(0, budget.DroppedBytesHour);
                break;
        }

        AssertReport(budget, action, names);

        // Another project's job is untouched: all its output, no marker, no budget event.
        Assert.Equal(RunStatus.Done, bystander.Status);
        var theirs = await world.LogsAsync("other", "bystander");
        Assert.Equal(PerJob + "last words\n".Length, StdoutBytes(theirs));
        Assert.DoesNotContain("log budget", RunnerText(theirs), StringComparison.Ordinal);
        Assert.DoesNotContain(bystander.Events, e => e.Type.StartsWith("log_budget", StringComparison.Ordinal));
        Assert.Null((await world.GetProjectAsync("other")).LogBudget);
        return true;
    }

    /// <summary>
    /// The evidence of the hour: its top lines are the jobs' repeated lines, its minutes add up to what was stored, and its
    /// tail is the end of what was dropped, piece by piece the output of the run it names.
    /// </summary>
    private static void AssertReport(ProjectBudgetStatus budget, LogQuotaAction action, string[] names)
    {
        var report = budget.Report;
        Assert.NotNull(report);
        Assert.Equal(budget.HourStartedAt, report.HourStartedAt);
        Assert.Equal(budget.UsedBytesHour, report.UsedBytes);
        Assert.Equal(budget.UsedBytesHour, report.BytesPerMinute.Sum());
        Assert.Equal(budget.DroppedBytesHour, report.DroppedBytes);

        Assert.NotEmpty(report.TopLines);
        Assert.All(report.TopLines, l =>
        {
            Assert.Matches("^[0-9]{99}$", l.Line);
            Assert.True(l.Count - l.Error >= 2, $"{l.Line}: {l.Count - l.Error}-{l.Count}");
            Assert.Contains(l.Run, names);
        });

        // Each of the 150 lines is written 40 times in a row by each job: the top one surely at least that often.
        Assert.True(report.TopLines[0].Count - report.TopLines[0].Error >= 40, $"top line counted {report.TopLines[0].Count - report.TopLines[0].Error}-{report.TopLines[0].Count}");

        var tail = string.Concat(report.DroppedTail.Select(p => p.Text));
        var tailBytes = Encoding.UTF8.GetByteCount(tail);
        if (action == LogQuotaAction.Observe)
        {
            Assert.Empty(report.DroppedTail);
            Assert.Equal(0, report.DroppedLines);
            return;
        }

        Assert.All(report.DroppedTail, p =>
        {
            Assert.Contains(p.Run, names);
            // Whole lines; a job killed in the middle of a line leaves that line's start, which was dropped as written.
            Assert.Matches(@"^([0-9]{99}\n|last words\n)*([0-9]{1,99}|last words)?$", p.Text);

            // A piece is what one job wrote, in the order it wrote it.
            Assert.Contains(p.Text, WrittenByEach, StringComparison.Ordinal);
        });
        Assert.True(tailBytes <= HourEvidence.TailCapacity, $"{tailBytes} bytes of tail");
        Assert.True(tailBytes == report.DroppedBytes || tailBytes > HourEvidence.TailCapacity - 100, $"{tailBytes} bytes of tail of {report.DroppedBytes} dropped");
        if (action == LogQuotaAction.Truncate)
        {
            // Every job's output ends with its last words, which the budget dropped: the tail ends with the last of them.
            Assert.EndsWith("last words\n", tail, StringComparison.Ordinal);
            Assert.Equal(((report.DroppedBytes - 3 * "last words\n".Length) / 100) + 3, report.DroppedLines);
        }
    }

    /// <summary>What <see cref="Writer"/> writes.</summary>
    private static readonly string WrittenByEach =
        string.Concat(Enumerable.Range(1, 150).Select(i => string.Concat(Enumerable.Repeat(i.ToString("D99", System.Globalization.CultureInfo.InvariantCulture) + "\n", 40)))) + "last words\n";

    private static long StdoutBytes(List<RunLogEvent> logs) => logs.Where(l => l.LogSource == LogSource.Stdout).Sum(l => (long)l.Message.Length);

    private static string StdoutText(List<RunLogEvent> logs) =>
        Encoding.UTF8.GetString([.. logs.Where(l => l.LogSource == LogSource.Stdout).SelectMany(l => l.Message)]);

    private static string RunnerText(List<RunLogEvent> logs) =>
        Encoding.UTF8.GetString([.. logs.Where(l => l.LogSource == LogSource.Runner).SelectMany(l => l.Message)]);

    private static int Count(string text, string part)
    {
        var count = 0;
        for (var at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + part.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
