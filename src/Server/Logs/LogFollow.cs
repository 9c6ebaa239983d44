using System.Globalization;

namespace LogQuota.Server.Logs;

/// <summary>
/// <c>follow=true</c> on a run's logs: a long poll. The answer is the same JSON page as without it, given at once when there
/// are events after <c>start_time</c> or the run has ended, else as soon as something of the run is stored (new events,
/// a new live region, its end), or after <c>wait</c> seconds with an empty page.
/// </summary>
public static class LogFollow
{
    /// <summary>How long an answer is held by default: under the 30 to 60 s idle timeouts of common proxies.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromSeconds(25);

    /// <summary>The longest <c>wait</c> a follower may ask.</summary>
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(60);

    /// <summary>Reads <c>follow</c> and <c>wait</c>; null wait when not following. False with the 400's detail for a bad value.</summary>
    public static bool TryParse(string? follow, string? wait, out TimeSpan? waitFor, out string problem)
    {
        waitFor = null;
        if (!Apis.Paging.TryParseFlag("follow", follow, out var following, out problem))
        {
            return false;
        }

        problem = "";
        if (wait is null)
        {
            waitFor = following ? DefaultWait : null;
            return true;
        }

        if (!following)
        {
            problem = "wait applies only with follow=true.";
            return false;
        }

        if (!double.TryParse(wait, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds) || seconds < 0 || seconds > MaxWait.TotalSeconds)
        {
            problem = $"wait must be a number of seconds from 0 to {MaxWait.TotalSeconds:0}, got '{wait}'.";
            return false;
        }

        waitFor = TimeSpan.FromSeconds(seconds);
        return true;
    }

    /// <summary>
    /// Reads pages with <paramref name="read"/> until one has something to say (<paramref name="worthAnswering"/>), a commit
    /// of the run was notified, or <paramref name="wait"/> is over; each read after a commit is shared with the followers
    /// asking the same.
    /// </summary>
    public static async Task<T> WaitAsync<T>(
        LogFeed feed, Guid runId, string key, Func<Task<T>> read, Func<T, bool> worthAnswering, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(worthAnswering);
        ArgumentNullException.ThrowIfNull(time);
        var started = time.GetTimestamp();

        // Following before the first read: a commit between the read and the wait is not missed.
        using var follower = feed.Follow(runId);
        // Followers that are caught up all ask for the same events at the same version: one read answers them all.
        var version = follower.Version;
        var page = await follower.SharedAsync(version, key, read);
        while (!worthAnswering(page))
        {
            var left = wait - time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return page;
            }

            var notified = await follower.WaitAsync(version, left < LogFeed.RecheckInterval ? left : LogFeed.RecheckInterval, time, cancellationToken);
            if (!notified)
            {
                // No commit here: another replica may have stored the run. Read for this follower alone.
                page = await read();
                continue;
            }

            // A commit may have changed only the live region: that is news to a follower too.
            version = follower.Version;
            return await follower.SharedAsync(version, key, read);
        }

        return page;
    }
}
