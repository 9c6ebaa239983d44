using System.Globalization;

namespace LogQuota.Shared.Contracts;

/// <summary>Byte counts as people type them, on the command line and in settings: one parser for the CLI and the services.</summary>
public static class ByteCount
{
    private static readonly string[] Units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    private static readonly Dictionary<string, long> Multipliers = new(StringComparer.OrdinalIgnoreCase)
    {
        [""] = 1,
        ["b"] = 1,
        ["byte"] = 1,
        ["bytes"] = 1,
        ["k"] = 1L << 10,
        ["kib"] = 1L << 10,
        ["kb"] = 1_000,
        ["m"] = 1L << 20,
        ["mib"] = 1L << 20,
        ["mb"] = 1_000_000,
        ["g"] = 1L << 30,
        ["gib"] = 1L << 30,
        ["gb"] = 1_000_000_000,
        ["t"] = 1L << 40,
        ["tib"] = 1L << 40,
        ["tb"] = 1_000_000_000_000,
    };

    /// <summary>Parses a byte count typed by a person: <c>1048576</c>, <c>512K</c>, <c>50MiB</c>, <c>1.5GiB</c>, <c>10MB</c> (1000-based).</summary>
    /// <returns>False when the text is not a size or does not fit in a long; whole bytes only (fractions are floored).</returns>
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var split = 0;
        while (split < trimmed.Length && (char.IsAsciiDigit(trimmed[split]) || trimmed[split] == '.'))
        {
            split++;
        }

        var number = trimmed[..split];
        var unit = trimmed[split..].Trim();
        if (number.Length == 0 || !Multipliers.TryGetValue(unit, out var multiplier))
        {
            return false;
        }

        if (!number.Contains('.', StringComparison.Ordinal))
        {
            if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var whole))
            {
                return false;
            }

            try
            {
                bytes = checked(whole * multiplier);
                return true;
            }
            catch (OverflowException)
            {
                return false;
            }
        }

        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var fraction))
        {
            return false;
        }

        var exact = decimal.Floor(fraction * multiplier);
        if (exact > long.MaxValue)
        {
            return false;
        }

        bytes = (long)exact;
        return true;
    }

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

    /// <summary>
    /// A size as a person would type it back: <c>52428800</c> → <c>50MiB</c>; a size that is no whole number of a unit
    /// keeps one decimal (<c>1.5KiB</c>). What <see cref="TryParse"/> reads, so a message can say what to type.
    /// </summary>
    public static string Compact(long bytes)
    {
        var formatted = Format(bytes);
        return formatted.Replace(".0", "", StringComparison.Ordinal) is var whole && TryParse(whole, out var back) && back == bytes
            ? whole
            : formatted;
    }

    /// <summary>A size in a message: <see cref="Compact"/> where that is exact (<c>50MiB</c>, <c>1.5KiB</c>), else the bytes (<c>52428801 bytes</c>).</summary>
    public static string Readable(long bytes) =>
        Compact(bytes) is var compact && TryParse(compact, out var back) && back == bytes
            ? compact
            : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
}
