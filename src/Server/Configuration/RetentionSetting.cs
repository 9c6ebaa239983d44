using System.Globalization;

namespace LogQuota.Server.Configuration;

/// <summary><c>DSTACK_SERVER_LOG_RETENTION</c>: how long the logs of a finished run are kept, as <c>30d</c>, <c>12h</c> or <c>90m</c>.</summary>
public static class RetentionSetting
{
    public const string Variable = "DSTACK_SERVER_LOG_RETENTION";

    /// <summary>Ten years: enough for anyone, and far from TimeSpan's limits.</summary>
    private const int MaxDays = 3650;

    /// <summary>Null when unset or empty (logs are kept for ever); else the retention.</summary>
    /// <exception cref="SettingsException">Anything but a whole number from 1 followed by d, h or m.</exception>
    public static TimeSpan? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var value = text.Trim();
        if (value.Length >= 2 &&
            int.TryParse(value.AsSpan(0, value.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= 1)
        {
            TimeSpan? retention = value[^1] switch
            {
                'd' => TimeSpan.FromDays(count),
                'h' => TimeSpan.FromHours(count),
                'm' => TimeSpan.FromMinutes(count),
                _ => null,
            };
            if (retention is { } r && r <= TimeSpan.FromDays(MaxDays))
            {
                return r;
            }
        }

        throw new SettingsException(
            $"{Variable}={text} is invalid: it must be a whole number of days, hours or minutes such as 30d, 12h or 90m " +
            $"(at most {MaxDays}d); unset keeps every log.");
    }
}
