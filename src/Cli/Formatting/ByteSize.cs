using System.Globalization;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Formatting;

/// <summary>Byte counts as people read and type them: binary units, one decimal (<c>50.0MiB</c>).</summary>
public static class ByteSize
{
    private static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary><c>512B</c>, <c>1.5KiB</c>, <c>50.0MiB</c>: below 1 KiB exact, above it one decimal in the largest unit that keeps the number ≥ 1.</summary>
    public static string Format(long bytes)
    {
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        }

        double value = bytes;
        var unit = -1;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        // Rounding can carry into the next unit (1023.96KiB would print as "1024.0KiB").
        if (Math.Round(value, 1) >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString("0.0", CultureInfo.InvariantCulture) + Units[unit];
    }

    /// <summary>An hourly quota as <c>ps -v</c> shows it: <c>50.0MiB/h</c>, or <c>unlimited</c> for null.</summary>
    public static string FormatQuota(long? bytesPerHour) =>
        bytesPerHour is { } bytes ? Format(bytes) + "/h" : "unlimited";

    /// <summary>Log bytes of the current hour, with the share of the quota when there is one: <c>12.0MiB (24%)</c>.</summary>
    public static string FormatUsage(long bytes, long? quota)
    {
        var text = Format(bytes);
        if (quota is not { } limit || limit <= 0)
        {
            return text;
        }

        // Floored, so a run shows 100% only when it has really used the whole quota.
        var percent = (int)Math.Min(100, Math.Floor(bytes * 100.0 / limit));
        return $"{text} ({percent}%)";
    }

    /// <summary>Parses a byte count typed by a person: <c>1048576</c>, <c>512K</c>, <c>50MiB</c>, <c>1.5GiB</c>, <c>10MB</c> (1000-based).</summary>
    /// <returns>False when the text is not a size or does not fit in a long; whole bytes only (fractions are floored).</returns>
    public static bool TryParse(string? text, out long bytes) => ByteCount.TryParse(text, out bytes);
}
