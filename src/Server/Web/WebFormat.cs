using System.Globalization;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.Rendering;

namespace LogQuota.Server.Web;

/// <summary>How the page writes times, sizes and quota usage: the same words the CLI's <c>ps</c> uses.</summary>
internal static class WebFormat
{
    /// <summary>The warning threshold when a job spec names none (SPEC §2 "warnings": default 80).</summary>
    private const int DefaultWarnPercent = 80;

    public static string Relative(DateTimeOffset when, DateTimeOffset now)
    {
        var ago = now - when;
        if (ago < TimeSpan.FromSeconds(5))
        {
            return "just now";
        }

        return ago switch
        {
            { TotalMinutes: < 1 } => $"{(int)ago.TotalSeconds} s ago",
            { TotalHours: < 1 } => $"{(int)ago.TotalMinutes} min ago",
            { TotalDays: < 1 } => $"{(int)ago.TotalHours} h ago",
            _ => $"{(int)ago.TotalDays} d ago",
        };
    }

    /// <summary>ISO 8601 UTC with milliseconds, as the API writes times.</summary>
    public static string Iso(DateTimeOffset when) => when.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>The exact time for a tooltip: <c>2026-12-06 12:04:31.123 UTC</c>.</summary>
    public static string ExactUtc(DateTimeOffset when) => when.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>
    /// A <c>&lt;time&gt;</c> a person reads: relative (<c>3 min ago</c>) or the clock (<c>12:04:31</c>), with the exact UTC
    /// in its tooltip. The server writes UTC; <c>times.js</c> rewrites it in the reader's time zone and keeps it ticking.
    /// </summary>
    public static IHtmlContent Time(DateTimeOffset when, DateTimeOffset now, bool relative, string? id = null)
    {
        var time = new TagBuilder("time");
        time.Attributes["datetime"] = Iso(when);
        time.Attributes["title"] = ExactUtc(when);
        time.Attributes["data-time"] = relative ? "relative" : "clock";
        if (id is not null)
        {
            time.Attributes["id"] = id;
        }

        time.InnerHtml.Append(relative ? Relative(when, now) : when.UtcDateTime.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        return time;
    }

    /// <summary>A count with digit grouping: <c>1,234,567</c>.</summary>
    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>Why the run's quota bar is red and full, in words; null when the quota did not end the run.</summary>
    public static string? QuotaEnding(RunRow run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.TerminationReason switch
        {
            TerminationReason.LogQuotaExceeded => "Killed at its log quota",
            TerminationReason.LogBudgetExceeded => "Killed at its project's log budget",
            _ => null,
        };
    }

    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.##} GiB"),
    };

    /// <summary>"512 B of 1000 B (51%)", or "512 B, no quota".</summary>
    public static string Usage(long used, long? limit) =>
        limit is { } l and > 0
            ? string.Create(CultureInfo.InvariantCulture, $"{Bytes(used)} of {Bytes(l)} ({Math.Min(999, used * 100 / l)}%)")
            : $"{Bytes(used)}, no quota";

    /// <summary>Bytes at which the usage bar turns to the warning colour: the job's first warning threshold.</summary>
    public static long WarnBytes(long limit, IReadOnlyList<int>? warnAt)
    {
        var percent = warnAt is { Count: > 0 } ? warnAt.Min() : DefaultWarnPercent;
        return limit * percent / 100;
    }

    public static bool IsActive(RunStatus status) =>
        status is RunStatus.Pending or RunStatus.Submitted or RunStatus.Running or RunStatus.Terminating;
}
