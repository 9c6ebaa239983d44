using System.Globalization;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Formatting;

/// <summary>The quota block as people read it: the line <c>run</c> ends with, and the section of <c>show</c>.</summary>
public static class QuotaView
{
    /// <summary>Cells of the usage bar of <c>show</c>.</summary>
    public const int BarWidth = 30;

    /// <summary>
    /// The line <c>run</c> prints on stderr when the run's quota was crossed:
    /// <c>log quota: 1000B/h (truncate), exceeded at 14:03:12 UTC; 27.9KiB dropped</c>. Null when it never was.
    /// </summary>
    public static string? FinalLine(LogQuotaStatus? quota)
    {
        if (quota is not { ExceededAt: { } exceeded })
        {
            return null;
        }

        var line = $"log quota: {ByteSize.FormatQuota(quota.Limit)} ({ActionName(quota.Action)}), exceeded at {Clock(exceeded)}";
        return quota.DroppedBytes > 0 ? $"{line}; {ByteSize.Format(quota.DroppedBytes)} dropped" : line;
    }

    /// <summary><c>[##########--------------------]</c>: the share of the quota used this hour (full past 100 %).</summary>
    public static string Bar(long used, long limit)
    {
        var filled = limit <= 0 ? 0 : (int)Math.Clamp(used * BarWidth / limit, 0, BarWidth);
        return "[" + new string('#', filled) + new string('-', BarWidth - filled) + "]";
    }

    /// <summary>The share of the quota, uncapped (an <c>observe</c> run goes past 100 %): <c>24%</c>; <c>-</c> without a quota.</summary>
    public static string Share(long used, long? limit) =>
        limit is > 0 ? ((long)Math.Floor(used * 100.0 / limit.Value)).ToString(CultureInfo.InvariantCulture) + "%" : "-";

    /// <summary>The quota section of <c>show</c>, line by line.</summary>
    public static IEnumerable<string> Section(LogQuotaStatus? quota, long? limitFromSpec)
    {
        if (quota is null)
        {
            yield return $"log quota:  {ByteSize.FormatQuota(limitFromSpec)} (the job has not started yet)";
            yield break;
        }

        yield return $"log quota:  {ByteSize.FormatQuota(quota.Limit)}, action {ActionName(quota.Action)}";
        if (quota.Limit is { } limit)
        {
            yield return $"  {Bar(quota.UsedBytesHour, limit)} {ByteSize.Format(quota.UsedBytesHour)} of {ByteSize.Format(limit)} ({Share(quota.UsedBytesHour, limit)}) this hour, resets at {Clock(quota.BucketResetsAt)}";
        }
        else
        {
            yield return $"  {ByteSize.Format(quota.UsedBytesHour)} this hour";
        }

        yield return $"  dropped:  {ByteSize.Format(quota.DroppedBytes)}" + (quota.DroppedBytes >= 1024 ? $" ({quota.DroppedBytes} bytes)" : "");
        yield return $"  exceeded: {(quota.ExceededAt is { } at ? Clock(at) : "never")}";
        if (quota.Report is not { } report)
        {
            yield break;
        }

        yield return $"  in the hour from {Clock(report.BucketStartedAt)}:";
        if (report.DroppedBytes > 0)
        {
            yield return $"    {report.DroppedBytes} bytes ({report.DroppedLines} lines) dropped";
        }

        yield return "    top repeated lines:";
        foreach (var line in report.TopLines)
        {
            yield return $"    {Count(line.Count, line.Error),10}×  {Printable(line.Line)}";
        }

        yield return "    bytes per minute: " + string.Join(" ", report.BytesPerMinute.Select(ByteSize.Format));
    }

    /// <summary>
    /// A repeated line's count: the sketch's counts may overcount by their error, and a range says so honestly
    /// (<c>50–51</c>: at least 50).
    /// </summary>
    public static string Count(long count, long error) =>
        error > 0 ? string.Create(CultureInfo.InvariantCulture, $"{count - error}–{count}") : count.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>kill</c>, <c>truncate</c>, <c>observe</c>.</summary>
    public static string ActionName(LogQuotaAction action) => WireNames.Of(action);

    /// <summary>A time as the runner's markers show it: <c>15:00:00 UTC</c>.</summary>
    public static string Clock(DateTimeOffset time) => time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>Job output is data: control characters of a reported line are shown escaped, never sent to the terminal;
    /// a line longer than <paramref name="maxLength"/> is cut there.</summary>
    public static string Printable(string line, int maxLength = 120)
    {
        ArgumentNullException.ThrowIfNull(line);
        var builder = new StringBuilder(Math.Min(line.Length, maxLength));
        foreach (var c in line.Length > maxLength ? line[..maxLength] + "…" : line)
        {
            builder.Append(char.IsControl(c) ? $"\\x{(int)c:x2}" : c);
        }

        return builder.ToString();
    }
}
