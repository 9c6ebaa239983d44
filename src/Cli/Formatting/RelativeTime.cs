namespace LogQuota.Cli.Formatting;

/// <summary>"2 mins ago": how <c>dstack ps</c> shows when a run was submitted.</summary>
public static class RelativeTime
{
    /// <summary>Describes <paramref name="time"/> as seen at <paramref name="now"/>.</summary>
    /// <remarks>A time slightly in the future (clock skew between the server and this machine) reads "now".</remarks>
    public static string Format(DateTimeOffset time, DateTimeOffset now)
    {
        var elapsed = now - time;
        var seconds = (long)Math.Floor(elapsed.TotalSeconds);
        var days = (long)Math.Floor(elapsed.TotalDays);
        return seconds switch
        {
            // Under ten seconds the exact count only flickers in a table refreshed by hand.
            < 10 => "now",
            < 60 => $"{seconds} secs ago",
            < 120 => "1 min ago",
            < 3600 => $"{seconds / 60} mins ago",
            < 7200 => "1 hour ago",
            < 86_400 => $"{seconds / 3600} hours ago",
            _ => days switch
            {
                1 => "yesterday",
                < 7 => $"{days} days ago",
                < 14 => "1 week ago",
                < 31 => $"{days / 7} weeks ago",
                < 60 => "1 month ago",
                < 365 => $"{days / 30} months ago",
                < 730 => "1 year ago",
                _ => $"{days / 365} years ago",
            },
        };
    }
}
