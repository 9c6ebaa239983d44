using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis;

/// <summary>The query of <c>GET /api/runs/{run_name}/logs</c>, as sent: every value is checked by hand so a bad one gets a clear 400.</summary>
public sealed record LogsParameters(
    [property: FromQuery(Name = "start_time")] string? StartTime,
    [property: FromQuery(Name = "end_time")] string? EndTime,
    [property: FromQuery(Name = "limit")] string? Limit,
    [property: FromQuery(Name = "descending")] string? Descending,
    [property: FromQuery(Name = "next_token")] string? NextToken,
    [property: FromQuery(Name = "format")] string? Format,
    [property: FromQuery(Name = "source")] string? Source = null,
    [property: FromQuery(Name = "follow")] string? Follow = null,
    [property: FromQuery(Name = "wait")] string? Wait = null,
    [property: FromQuery(Name = "timestamps")] string? Timestamps = null,
    [property: FromQuery(Name = "q")] string? Q = null,
    [property: FromQuery(Name = "regex")] string? Regex = null,
    [property: FromQuery(Name = "match_case")] string? MatchCase = null,
    [property: FromQuery(Name = "line")] string? Line = null,
    [property: FromQuery(Name = "max_bytes")] string? MaxBytes = null)
{
    /// <summary>Whether this is a search (<c>q</c>) or a line look-up (<c>line</c>) rather than a read of events.</summary>
    public bool Searches => Q is not null || Line is not null || Regex is not null || MatchCase is not null;
}

/// <summary>
/// A checked logs query: which events of a job, in which order, and whether as JSON pages or the whole log as text.
/// </summary>
/// <param name="Text">The whole log as text, in order (<c>format=text</c> or <c>format=ansi</c>), rather than JSON pages.</param>
/// <param name="Source">The one source kept; null for both.</param>
/// <param name="Start">Only events after this Unix millisecond (exclusive: a follower passes its last event's).</param>
/// <param name="End">Only events at or before this Unix millisecond.</param>
/// <param name="Limit">Events per JSON page.</param>
/// <param name="Descending">Newest first.</param>
/// <param name="NextToken">Where the page starts, as issued with the previous page.</param>
/// <param name="Ansi">The text with its style runs rebuilt as SGR and OSC 8 sequences (<c>format=ansi</c>).</param>
/// <param name="Timestamps">Each line of the text starts with the time it was stored (<c>timestamps=true</c>).</param>
/// <param name="MaxBytes">The most message bytes a JSON page holds (<c>max_bytes</c>); a page always holds at least one event.</param>
internal sealed record LogsQuery(bool Text, LogSource? Source, long? Start, long? End, int Limit, bool Descending, string? NextToken,
    bool Ansi = false, bool Timestamps = false, int MaxBytes = LogsQuery.MaxPageBytes)
{
    public const int MaxLimit = 1000;

    /// <summary>
    /// The most message bytes of one JSON page, and its default: an event is up to one 64 KiB read, so 1,000 of them
    /// would be 64 MB in the server's memory and the reader's (85 MB as base64). A page stops before the event that
    /// would cross it, whatever the events' sizes; what the server reads past it is the rest of one batch.
    /// </summary>
    public const int MaxPageBytes = 4 * 1024 * 1024;

    /// <summary>Events of a page's first read: a follower's page (what was stored since its last) is one read.</summary>
    private const int FirstBatch = 64;

    /// <summary>What followers at the same place share a read by: the page token is bound to its run already.</summary>
    public string FollowKey => $"{Source}|{Start}|{End}|{Limit}|{MaxBytes}|{NextToken}";

    /// <summary>Checks every value of <paramref name="query"/>; false with the 400's detail for the first bad one.</summary>
    public static bool TryParse(LogsParameters query, [NotNullWhen(true)] out LogsQuery? parsed, out string problem)
    {
        parsed = null;
        var text = query.Format switch
        {
            null or "json" => false,
            "text" or "ansi" => true,
            _ => (bool?)null,
        };
        if (text is null)
        {
            problem = $"format must be json, text or ansi, got '{query.Format}'.";
            return false;
        }

        if (!Paging.TryParseFlag("timestamps", query.Timestamps, out var timestamps, out problem))
        {
            return false;
        }

        if (timestamps && !text.Value)
        {
            problem = "timestamps=true prefixes the lines of format=text or format=ansi; JSON pages carry each event's timestamp already.";
            return false;
        }

        // job: the job's own output; runner: the [logquota] markers and dropped tails; all (the default): both, in order.
        var filter = LogSourceFilter.All;
        if (query.Source is not null && !WireNames.TryParse(query.Source, out filter))
        {
            problem = $"source must be {WireNames.Alternatives<LogSourceFilter>()}, got '{query.Source}'.";
            return false;
        }

        if (!TryParseTime(query.StartTime, out var start))
        {
            problem = TimeProblem("start_time", query.StartTime);
            return false;
        }

        if (!TryParseTime(query.EndTime, out var end))
        {
            problem = TimeProblem("end_time", query.EndTime);
            return false;
        }

        if (start is not null && end is not null && end < start)
        {
            problem = "end_time is before start_time.";
            return false;
        }

        if (!Paging.TryParseLimit(query.Limit, MaxLimit, MaxLimit, out var limit, out problem) ||
            !Paging.TryParseFlag("descending", query.Descending, out var descending, out problem))
        {
            return false;
        }

        if (!Paging.TryParseCount("max_bytes", "a whole number of bytes", query.MaxBytes, MaxPageBytes, MaxPageBytes, out var maxBytes, out problem))
        {
            return false;
        }

        if (text.Value && (query.Limit is not null || query.NextToken is not null || descending || query.MaxBytes is not null))
        {
            problem = $"format={query.Format} streams the whole log in order; limit, max_bytes, next_token and descending apply to JSON pages only.";
            return false;
        }

        parsed = new LogsQuery(text.Value, filter.Source(), start, end, limit, descending, query.NextToken, query.Format == "ansi", timestamps, maxBytes);
        problem = "";
        return true;
    }

    /// <summary>The job's events this query selects (source and time range), in no order yet.</summary>
    public IQueryable<LogEventEntity> Filter(IQueryable<LogEventEntity> events)
    {
        if (Source is { } only)
        {
            events = events.Where(e => e.LogSource == only);
        }

        if (Start is { } after)
        {
            events = events.Where(e => e.Timestamp > after);
        }

        if (End is { } until)
        {
            events = events.Where(e => e.Timestamp <= until);
        }

        return events;
    }

    /// <summary>
    /// One JSON page: up to <see cref="Limit"/> of <paramref name="events"/> after <paramref name="cursor"/> in this
    /// query's order, ending before the event that would take its messages past <see cref="MaxBytes"/> (the first is
    /// always kept), and the next page's token (made from the page's last event by <paramref name="tokenFor"/>), or null
    /// when the page reached the end. Read in batches sized from the events seen: a page of small events is one or two
    /// round trips, a page of 64 KiB reads stops after about <see cref="MaxBytes"/> instead of holding 1,000 of them.
    /// </summary>
    public async Task<(List<LogEventEntity> Events, string? NextToken)> ReadPageAsync(
        IQueryable<LogEventEntity> events, LogCursor? cursor, Func<LogEventEntity, string> tokenFor, CancellationToken cancellationToken)
    {
        var page = new List<LogEventEntity>();
        long bytes = 0;
        var want = Math.Min(FirstBatch, Limit + 1);
        while (true)
        {
            var batch = await Ordered(events, cursor, Descending).Take(want).ToListAsync(cancellationToken);
            foreach (var e in batch)
            {
                if (page.Count == Limit || (page.Count > 0 && bytes + e.Message.Length > MaxBytes))
                {
                    return (page, tokenFor(page[^1]));
                }

                page.Add(e);
                bytes += e.Message.Length;
            }

            if (batch.Count < want)
            {
                return (page, null);
            }

            cursor = new LogCursor(batch[^1].Timestamp, batch[^1].Id);
            var fit = (MaxBytes - bytes) / Math.Max(1, bytes / page.Count) + 1; // as many more as fit at the average size so far
            want = (int)Math.Min(Math.Max(fit, FirstBatch), Limit + 1 - page.Count);
        }
    }

    /// <summary>Events after (or before) <paramref name="cursor"/> in (timestamp, id) order. The first condition
    /// is a plain range on the (job_id, timestamp) index; the second only breaks ties within one millisecond.</summary>
    public static IQueryable<LogEventEntity> Ordered(IQueryable<LogEventEntity> events, LogCursor? cursor, bool descending)
    {
        if (cursor is { } c)
        {
            events = descending
                ? events.Where(e => e.Timestamp <= c.Timestamp && (e.Timestamp < c.Timestamp || e.Id < c.Id))
                : events.Where(e => e.Timestamp >= c.Timestamp && (e.Timestamp > c.Timestamp || e.Id > c.Id));
        }

        return descending
            ? events.OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id)
            : events.OrderBy(e => e.Timestamp).ThenBy(e => e.Id);
    }

    private static string TimeProblem(string name, string? text) => $"{name} must be an ISO 8601 time such as 2026-01-31T12:00:00.000Z, got '{text}'.";

    /// <summary>Parses an ISO 8601 time to Unix milliseconds (floored: sub-millisecond parts cannot match an event).</summary>
    private static bool TryParseTime(string? text, out long? milliseconds)
    {
        milliseconds = null;
        if (text is null)
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return false;
        }

        milliseconds = (long)Math.Floor((time - DateTimeOffset.UnixEpoch).TotalMilliseconds);
        return true;
    }
}
