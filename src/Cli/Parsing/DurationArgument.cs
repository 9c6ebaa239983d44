using System.Globalization;

namespace LogQuota.Cli.Parsing;

/// <summary>The <c>--max-duration</c> value: seconds, or a number with <c>s</c>, <c>m</c>, <c>h</c> or <c>d</c> as dstack accepts (<c>90m</c>, <c>2h</c>).</summary>
public static class DurationArgument
{
    /// <summary>Parses <paramref name="text"/> to whole seconds, at least 1 and at most <see cref="int.MaxValue"/>.</summary>
    public static bool TryParse(string? text, out int seconds)
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
}
