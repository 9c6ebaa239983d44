using System.Text;
using LogQuota.Server.Apis;

namespace LogQuota.Server.Logs;

/// <summary>
/// <c>follow=true</c> asked with <c>Accept: text/event-stream</c>: one response for the whole follow (Server-Sent
/// Events). It sends the stored pages from where the follower starts (at least one, empty if nothing is stored after
/// it), then one <c>page</c> frame per commit of the run that brings it something (new events, a new live region), and
/// <c>end</c> once the run has ended and everything is sent. Followers at the same place share one read and one frame
/// per commit, and a frame costs each of them one write: no request, access check or run lookup per commit, so a
/// hundred followers cost about what one does.
/// </summary>
/// <remarks>
/// Frames: <c>event: page</c> with the JSON page of the long poll as its data (<c>logs</c>, <c>next_token</c>,
/// <c>live</c>); <c>event: end</c> with <c>{}</c>; a comment line (<c>: keep-alive</c>) after <see cref="KeepAlive"/>
/// without a frame, under common proxies' idle timeouts.
/// </remarks>
internal static class LogEventStream
{
    public const string ContentType = "text/event-stream";

    /// <summary>The longest the stream stays silent: a comment line then keeps proxies from closing it.</summary>
    public static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    private static readonly byte[] End = Encoding.ASCII.GetBytes("event: end\ndata: {}\n\n");
    private static readonly byte[] Comment = Encoding.ASCII.GetBytes(": keep-alive\n\n");

    /// <summary>True when the client accepts an event stream (an EventSource, <c>logquota logs -f</c>).</summary>
    public static bool Wanted(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals(ContentType, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Headers that keep caches and buffering proxies (nginx) from holding frames back.</summary>
    public static void Prepare(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>Writes the follow of <paramref name="runId"/> from <paramref name="start"/> until the run ends or the client leaves.</summary>
    public static async Task WriteAsync(
        Stream body, LogFeed feed, Guid runId, LogsQuery start, Func<LogsQuery, Task<FollowedPage>> read, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(feed);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(time);
        try
        {
            // Following before the first read: a commit between a read and the wait after it is not missed.
            using var follower = feed.Follow(runId);
            var position = start;
            byte[]? live = null;
            var first = true;
            var shared = true;
            var lastSent = time.GetTimestamp();
            while (true)
            {
                var version = follower.Version;
                var page = shared ? await follower.SharedAsync(version, position.FollowKey, () => read(position)) : await read(position);
                var logs = page.Page.Logs;
                // The first page always: the follower sees the stream is up, and the live region as it is.
                if (first || logs.Count > 0 || !Same(live, page.Page.Live))
                {
                    first = false;
                    await SendAsync(body, page.Frame, cancellationToken);
                    lastSent = time.GetTimestamp();
                    live = page.Page.Live;
                    if (logs.Count > 0)
                    {
                        position = position with { Start = logs[^1].Timestamp.ToUnixTimeMilliseconds(), NextToken = null };
                    }
                }

                if (logs.Count > 0 && page.Page.NextToken is not null)
                {
                    // A full page: more is stored already.
                    shared = true;
                    continue;
                }

                if (page.Ended)
                {
                    await SendAsync(body, End, cancellationToken);
                    return;
                }

                // Until a commit of the run here; without one, read alone every recheck (another replica may store it).
                shared = await follower.WaitAsync(version, LogFeed.RecheckInterval, time, cancellationToken);
                if (!shared && time.GetElapsedTime(lastSent) >= KeepAlive)
                {
                    await SendAsync(body, Comment, cancellationToken);
                    lastSent = time.GetTimestamp();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left.
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task SendAsync(Stream body, byte[] frame, CancellationToken cancellationToken)
    {
        await body.WriteAsync(frame, cancellationToken);
        await body.FlushAsync(cancellationToken);
    }

    private static bool Same(byte[]? a, byte[]? b) => a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
