using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
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
    [property: FromQuery(Name = "source")] string? Source = null);

/// <summary>The logs of a run (SPEC §4 <c>GET /api/runs/{run_name}/logs</c>): JSON pages, or the whole log as text.</summary>
public static class RunLogsApi
{
    private const int MaxLogsLimit = 1000;

    /// <summary>Events per database round trip when streaming <c>?format=text</c>: bounded memory however long the log.</summary>
    private const int TextBatchSize = 256;

    /// <summary>Bytes the text stream gathers before a write to the response: a few events per chunk on the wire.</summary>
    private const int TextBufferSize = 64 * 1024;

    public static RouteGroupBuilder MapRunLogsApi(this RouteGroupBuilder api)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/{run_name}/logs", GetLogs).WithName("GetRunLogs").Produces<LogsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<LogsResponse>, PushStreamHttpResult, ProblemHttpResult>> GetLogs(
        [FromRoute(Name = "run_name")] string runName, [AsParameters] LogsParameters query, ServerDbContext db, LogsPageTokens tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tokens);

        var text = query.Format switch
        {
            null or "json" => false,
            "text" => true,
            _ => (bool?)null,
        };
        if (text is null)
        {
            return BadRequest($"format must be json or text, got '{query.Format}'.");
        }

        // job: the job's own output; runner: the [logquota] markers and dropped tails; all (the default): both, in order.
        var filter = LogSourceFilter.All;
        if (query.Source is not null && !WireNames.TryParse<LogSourceFilter>(query.Source, out filter))
        {
            return BadRequest($"source must be {WireNames.Alternatives<LogSourceFilter>()}, got '{query.Source}'.");
        }

        var source = filter.Source();

        if (!TryParseTime(query.StartTime, out var start))
        {
            return BadRequest($"start_time must be an ISO 8601 time such as 2026-01-31T12:00:00.000Z, got '{query.StartTime}'.");
        }

        if (!TryParseTime(query.EndTime, out var end))
        {
            return BadRequest($"end_time must be an ISO 8601 time such as 2026-01-31T12:00:00.000Z, got '{query.EndTime}'.");
        }

        if (start is not null && end is not null && end < start)
        {
            return BadRequest("end_time is before start_time.");
        }

        var limit = MaxLogsLimit;
        if (query.Limit is not null &&
            (!int.TryParse(query.Limit, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 1 || limit > MaxLogsLimit))
        {
            return BadRequest($"limit must be a whole number from 1 to {MaxLogsLimit}, got '{query.Limit}'.");
        }

        var descending = false;
        if (query.Descending is not null && !bool.TryParse(query.Descending, out descending))
        {
            return BadRequest($"descending must be true or false, got '{query.Descending}'.");
        }

        if (text.Value && (query.Limit is not null || query.NextToken is not null || descending))
        {
            return BadRequest("format=text streams the whole log in order; limit, next_token and descending apply to JSON pages only.");
        }

        var job = await db.Jobs.AsNoTracking()
            .Where(j => j.Run.RunName == runName)
            .OrderBy(j => j.SubmittedAt)
            .Select(j => new { j.Id, Live = text.Value ? null : j.Live })
            .FirstOrDefaultAsync(cancellationToken);
        if (job is null)
        {
            return NotFound(runName);
        }

        Guid? jobId = job.Id;

        LogCursor? cursor = null;
        if (query.NextToken is not null)
        {
            if (!tokens.TryRead(query.NextToken, jobId.Value, descending, out var read))
            {
                return BadRequest("next_token is not a token this server issued for this run's logs in this direction.");
            }

            cursor = read;
        }

        var events = db.LogEvents.AsNoTracking().Where(e => e.JobId == jobId.Value);
        if (source is { } only)
        {
            events = events.Where(e => e.LogSource == only);
        }

        if (start is { } after)
        {
            // Exclusive: a follower passes the timestamp of the last event it has.
            events = events.Where(e => e.Timestamp > after);
        }

        if (end is { } until)
        {
            events = events.Where(e => e.Timestamp <= until);
        }

        if (text.Value)
        {
            return TypedResults.Stream(body => StreamTextAsync(events, body, cancellationToken), "text/plain; charset=utf-8");
        }

        var page = await Page(events, cursor, descending).Take(limit + 1).ToListAsync(cancellationToken);
        string? nextToken = null;
        if (page.Count > limit)
        {
            page.RemoveAt(limit);
            nextToken = tokens.Create(jobId.Value, descending, new LogCursor(page[^1].Timestamp, page[^1].Id));
        }

        return TypedResults.Ok(new LogsResponse(
            [.. page.Select(e => new RunLogEvent(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), e.Message, e.LogSource))],
            nextToken,
            source == LogSource.Runner ? null : job.Live));
    }

    /// <summary>Writes the stored bytes in order, a batch at a time, never holding the whole log. Each batch is
    /// one short query, so a slow reader never holds a read transaction open (which would stall WAL checkpoints).</summary>
    private static async Task StreamTextAsync(IQueryable<LogEventEntity> events, Stream body, CancellationToken cancellationToken)
    {
        // Events are copied into the pipe's buffers and sent a batch at a time: a write straight to the
        // response body is a flush, so an event of a hundred bytes used to cost a chunk and a send of its own.
        var writer = PipeWriter.Create(body, new StreamPipeWriterOptions(minimumBufferSize: TextBufferSize, leaveOpen: true));
        LogCursor? cursor = null;
        while (true)
        {
            var batch = await Page(events, cursor, descending: false).Take(TextBatchSize).ToListAsync(cancellationToken);
            foreach (var e in batch)
            {
                writer.Write(e.Message);
            }

            await writer.FlushAsync(cancellationToken);
            if (batch.Count < TextBatchSize)
            {
                break;
            }

            cursor = new LogCursor(batch[^1].Timestamp, batch[^1].Id);
        }

        await writer.CompleteAsync();
    }

    /// <summary>Events after (or before) <paramref name="cursor"/> in (timestamp, id) order. The first condition
    /// is a plain range on the (job_id, timestamp) index; the second only breaks ties within one millisecond.</summary>
    private static IQueryable<LogEventEntity> Page(IQueryable<LogEventEntity> events, LogCursor? cursor, bool descending)
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

    private static ProblemHttpResult NotFound(string runName) =>
        TypedResults.Problem(detail: $"Run '{runName}' does not exist.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
