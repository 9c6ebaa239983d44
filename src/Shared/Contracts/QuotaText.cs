using System.Globalization;

namespace LogQuota.Shared.Contracts;

/// <summary>How the runner (the per-job quota) and the server (a project's budget) write sizes, rates and times in their
/// <c>[logquota] </c> marker lines and events.</summary>
public static class QuotaText
{
    /// <summary>The prefix of every marker line written into a job's log, by the runner or by the server.</summary>
    public const string MarkerPrefix = "[logquota] ";

    /// <summary>1536 → <c>1.5 KiB</c>; 52428800 → <c>50.0 MiB</c>; under 1 KiB in bytes.</summary>
    public static string Bytes(double bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB"];
        if (bytes < 1024)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B");
        }

        var unit = -1;
        while (bytes >= 1024 && unit < units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }

        return string.Create(CultureInfo.InvariantCulture, $"{bytes:0.0} {units[unit]}");
    }

    /// <summary>A clock time as a marker shows it: <c>15:00:00 UTC</c>.</summary>
    public static string Clock(DateTimeOffset time) =>
        time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>A duration to the second: <c>45 s</c>, <c>8 min 20 s</c>, <c>1 h 2 min</c>.</summary>
    public static string Duration(TimeSpan duration)
    {
        var seconds = (long)Math.Ceiling(Math.Max(0, duration.TotalSeconds));
        return seconds switch
        {
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds} s"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60} min {seconds % 60} s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600} h {seconds % 3600 / 60} min"),
        };
    }
}
