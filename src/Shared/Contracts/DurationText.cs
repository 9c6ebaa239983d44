using System.Globalization;

namespace LogQuota.Shared.Contracts;

/// <summary>
/// Durations as people type them, on the command line and in the web form: seconds, or a whole number with <c>s</c>,
/// <c>m</c>, <c>h</c> or <c>d</c> as dstack accepts (<c>90m</c>, <c>2h</c>). One parser for the CLI and the server.
/// </summary>
public static class DurationText
{
    private static readonly (char Unit, int Seconds)[] Units = [('d', 86_400), ('h', 3600), ('m', 60)];

    /// <summary>Parses <paramref name="text"/> to whole seconds, at least 1 and at most <see cref="int.MaxValue"/>.</summary>
    public static bool TryParseSeconds(string? text, out int seconds)
    {
        seconds = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var trimmed = text.Trim();
        var multiplier = char.ToLowerInvariant(trimmed[^1]) switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 0,
        };
        var number = multiplier == 0 ? trimmed : trimmed[..^1];
        multiplier = multiplier == 0 ? 1 : multiplier;

        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < 1)
        {
            return false;
        }

        // Checked in this order so the product cannot overflow a long.
        if (value > int.MaxValue || value * multiplier > int.MaxValue)
        {
            return false;
        }

        seconds = (int)(value * multiplier);
        return true;
    }

    /// <summary>Seconds as a person would type them back: <c>7200</c> → <c>2h</c>, <c>5400</c> → <c>90m</c>, <c>61</c> → <c>61s</c>.</summary>
    public static string Format(long seconds)
    {
        foreach (var (unit, size) in Units)
        {
            if (seconds != 0 && seconds % size == 0)
            {
                return (seconds / size).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return seconds.ToString(CultureInfo.InvariantCulture) + "s";
    }
}
