using System.Text;
using LogQuota.Server.Budgets;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Budgets;

/// <summary>A project hour's evidence alone: what the charge feeds it, and what survives being stored between pages.</summary>
public sealed class HourEvidenceTests
{
    private static readonly DateTimeOffset Hour = new(2026, 12, 6, 11, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Charge_FeedsTheEvidence_MinutesAddUpToTheStoredBytes_AndTheTailIsWhatWasDropped()
    {
        var rule = new BudgetRule("research", 30, LogQuotaAction.Truncate, []);
        var hour = new ProjectBudgetHourEntity { HourStart = Hour };
        var row = new ProjectBudgetEvidenceEntity { HourStart = Hour };
        var (a, b) = (Job(), Job());

        Charge(rule, hour, a, row, "spam\nspam\n", Hour.AddMinutes(1));
        Charge(rule, hour, b, row, "spam\nspam\nspam\n", Hour.AddMinutes(3));
        Charge(rule, hour, a, row, "spam\nlast words of a\n", Hour.AddMinutes(3));
        Charge(rule, hour, b, row, "Traceback: b\n", Hour.AddMinutes(4));

        var report = HourEvidence.Read(row).Report(Hour, hour.UsedBytes, hour.DroppedBytes, new Dictionary<Guid, string> { [a.RunId] = "a", [b.RunId] = "b" });

        Assert.Equal(30, hour.UsedBytes);
        Assert.Equal([0L, 10, 0, 20], report.BytesPerMinute);
        Assert.Equal(hour.UsedBytes, report.BytesPerMinute.Sum());
        Assert.Equal(new ProjectRepeatedLine("spam", 6, 0, "a"), Assert.Single(report.TopLines));
        Assert.Equal([new DroppedText("a", "last words of a\n"), new DroppedText("b", "Traceback: b\n")], report.DroppedTail);
        Assert.Equal(29, report.DroppedBytes);
        Assert.Equal(2, report.DroppedLines);
    }

    [Fact]
    public void Tail_KeepsTheLast64KiB_FromAWholeLine_ThroughStorage()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());
        var row = new ProjectBudgetEvidenceEntity();
        var line = new string('x', 99) + "\n";
        for (var i = 0; i < 1000; i++)
        {
            // Read and written back each time, as each page's charge does.
            var evidence = HourEvidence.Read(row);
            evidence.Dropped(Encoding.UTF8.GetBytes(i == 999 ? "the end\n" : line), i < 100 ? a : b);
            evidence.WriteTo(row);
        }

        var tail = HourEvidence.Read(row).Report(Hour, 0, 0, new Dictionary<Guid, string> { [b] = "b" }).DroppedTail;

        var piece = Assert.Single(tail);
        Assert.Equal("b", piece.Run);
        Assert.EndsWith(line + "the end\n", piece.Text, StringComparison.Ordinal);
        Assert.StartsWith(line, piece.Text, StringComparison.Ordinal);
        Assert.InRange(Encoding.UTF8.GetByteCount(piece.Text), HourEvidence.TailCapacity - line.Length, HourEvidence.TailCapacity);
        Assert.InRange(row.DroppedTail.Length, 0, HourEvidence.TailCapacity + 100);
    }

    [Fact]
    public void Lines_FindTheRunaway_AmongManyDistinctLines_AndNameItsRun()
    {
        var (quiet, loud) = (Guid.NewGuid(), Guid.NewGuid());
        var row = new ProjectBudgetEvidenceEntity();
        for (var page = 0; page < 50; page++)
        {
            var evidence = HourEvidence.Read(row);
            var text = new StringBuilder();
            for (var i = 0; i < 100; i++)
            {
                text.Append("step ").Append(page * 100 + i).Append('\n');
            }

            evidence.Wrote(Encoding.UTF8.GetBytes(text.ToString()), quiet);
            evidence.Wrote("CUDA warning: retrying\nCUDA warning: retrying\nCUDA warning: retrying\n"u8, loud);
            evidence.WriteTo(row);
        }

        var top = HourEvidence.Read(row).Report(Hour, 0, 0, new Dictionary<Guid, string> { [loud] = "loud" }).TopLines;

        var first = top[0];
        Assert.Equal(("CUDA warning: retrying", "loud"), (first.Line, first.Run));
        Assert.InRange(150, first.Count - first.Error, first.Count);
        Assert.All(top.Skip(1), l => Assert.True(l.Count - l.Error >= 2));
        Assert.True(row.TopLines.Length < LineCounters.Capacity * 250, $"{row.TopLines.Length} bytes of counters");
    }

    [Fact]
    public void ARowOfAnotherFormat_ReadsAsEmpty()
    {
        var row = new ProjectBudgetEvidenceEntity { TopLines = [9, 1, 2], DroppedTail = [1, 0, 5], BytesPerMinute = [1, 2] };

        var report = HourEvidence.Read(row).Report(Hour, 0, 0, new Dictionary<Guid, string>());

        Assert.Empty(report.TopLines);
        Assert.Empty(report.DroppedTail);
        Assert.Empty(report.BytesPerMinute);
    }

    private static void Charge(BudgetRule rule, ProjectBudgetHourEntity hour, JobEntity job, ProjectBudgetEvidenceEntity row, string text, DateTimeOffset now)
    {
        var evidence = HourEvidence.Read(row);
        BudgetCharge.Apply(rule, hour, job, [new LogEvent(now.ToUnixTimeMilliseconds(), Encoding.UTF8.GetBytes(text))], null, now, evidence);
        evidence.WriteTo(row);
    }

    private static JobEntity Job() => new() { Id = Guid.NewGuid(), RunId = Guid.NewGuid(), Spec = new JobSpec(["true"]), Status = JobStatus.Running };
}
