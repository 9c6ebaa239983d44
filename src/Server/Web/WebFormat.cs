using System.Globalization;
using LogQuota.Shared.Contracts;

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
