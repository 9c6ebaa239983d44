using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Formatting;

/// <summary>Byte counts as people read and type them: binary units, one decimal (<c>50.0MiB</c>).</summary>
public static class ByteSize
{
    /// <summary><c>512B</c>, <c>1.5KiB</c>, <c>50.0MiB</c>, as <see cref="ByteCount.Format"/> writes them.</summary>
    public static string Format(long bytes) => ByteCount.Format(bytes);

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
