using System.Globalization;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Formatting;

/// <summary>A project's log budget as <c>projects show</c> prints it: this hour's usage, and the evidence of the last hour that crossed.</summary>
public static class BudgetView
{
    /// <summary>Lines of the dropped tail shown unless all are asked for.</summary>
    public const int TailLines = 10;

    /// <summary>The budget section, line by line; <paramref name="wholeTail"/> prints every kept line of what was dropped.</summary>
    public static IEnumerable<string> Section(ProjectBudgetStatus? budget, bool wholeTail)
    {
        if (budget is not { Limit: { } limit })
        {
            yield return "log budget: none";
            yield break;
        }

        yield return $"log budget: {ByteSize.FormatQuota(limit)}, action {QuotaView.ActionName(budget.Action)}";
        yield return $"  {QuotaView.Bar(budget.UsedBytesHour, limit)} {ByteSize.Format(budget.UsedBytesHour)} of {ByteSize.Format(limit)} ({QuotaView.Share(budget.UsedBytesHour, limit)}) this hour, resets at {QuotaView.Clock(budget.HourResetsAt)}";
        yield return $"  dropped:  {ByteSize.Format(budget.DroppedBytesHour)} this hour";
        yield return $"  exceeded: {(budget.ExceededAt is { } at ? QuotaView.Clock(at) : "not this hour")}";
        if (budget.Report is not { } report)
        {
            yield break;
        }

        yield return $"  in the hour from {QuotaView.Clock(report.HourStartedAt)}, the last that crossed:";
        yield return $"    {ByteSize.Format(report.UsedBytes)} stored, {report.DroppedBytes} bytes ({report.DroppedLines} lines) dropped";
        yield return "    top repeated lines:";
        foreach (var line in report.TopLines)
        {
            yield return $"    {QuotaView.Count(line.Count, line.Error),10}×  {QuotaView.Printable(line.Line)}  (run {line.Run ?? "deleted"})";
        }

        yield return "    bytes per minute: " + string.Join(" ", report.BytesPerMinute.Select(ByteSize.Format));
        if (report.DroppedTail.Count == 0)
        {
            yield break;
        }

        var lines = report.DroppedTail
            .SelectMany(p => p.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (Run: p.Run ?? "deleted", Line: l)))
            .ToList();
        var shown = wholeTail ? lines : lines.TakeLast(TailLines).ToList();
        var kept = ByteSize.Format(report.DroppedTail.Sum(p => (long)System.Text.Encoding.UTF8.GetByteCount(p.Text)));
        yield return shown.Count == lines.Count
            ? $"    the last {kept} dropped, {lines.Count} lines:"
            : string.Create(CultureInfo.InvariantCulture, $"    the last {shown.Count} of the {lines.Count} lines kept of what was dropped ({kept}; --dropped shows them all):");
        foreach (var (run, line) in shown)
        {
            yield return $"      [{run}] {QuotaView.Printable(line, maxLength: 400)}";
        }
    }
}
