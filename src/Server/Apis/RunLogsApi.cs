using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using LogQuota.Server.Data;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace LogQuota.Server.Apis;

/// <summary>The logs of a run (SPEC §4 <c>GET /api/runs/{run_name}/logs</c>): JSON pages, or the whole log as text.</summary>
public static class RunLogsApi
{
    /// <summary>Events per database round trip when streaming <c>?format=text</c>: bounded memory however long the log.</summary>
    private const int TextBatchSize = 256;

    /// <summary>Bytes the text stream gathers before a write to the response: a few events per chunk on the wire.</summary>
    private const int TextBufferSize = 64 * 1024;

    public static RouteGroupBuilder MapRunLogsApi(this RouteGroupBuilder api, string names)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/{run_name}/logs", GetLogs).WithName($"Get{names}RunLogs").Produces<LogsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapRunSectionsApi(names);
        return api;
    }

    public static async Task<Results<Ok<LogsResponse>, Ok<LogSearchResponse>, FileContentHttpResult, PushStreamHttpResult, ProblemHttpResult>> GetLogs(
        ProjectRoute project, [FromRoute(Name = "run_name")] string runName, [AsParameters] LogsParameters query,
        Caller caller, TeamAccess access, ServerDbContext db, LogsPageTokens tokens, LogSearchTokens searchTokens, HttpContext http,
        [FromServices] Logs.LogFeed feed, [FromServices] TimeProvider time, [FromServices] IOptions<JsonOptions> json, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tokens);
        var (reached, refused) = await access.ProjectAsync(caller, project.Name, cancellationToken);
        if (reached is null)
        {
            return TypedResults.Problem(detail: refused!.Detail, statusCode: refused.Status);
        }

        if (query.Searches)
        {
            return await LogSearchApi.SearchAsync(reached.ProjectId, runName, query, db, searchTokens, time, cancellationToken);
        }

        if (!LogsQuery.TryParse(query, out var logs, out var problem) || !Logs.LogFollow.TryParse(query.Follow, query.Wait, out var follow, out problem))
        {
            return BadRequest(problem);
        }

        if (follow is not null && (logs.Text || logs.Descending))
        {
            return BadRequest("follow=true waits for new events in order, as JSON pages; it cannot be combined with format=text or descending.");
        }

        var job = await db.Jobs.AsNoTracking()
            .Where(j => j.Run.ProjectId == reached.ProjectId && j.Run.RunName == runName)
            .OrderBy(j => j.SubmittedAt)
            .Select(j => new { j.Id, j.RunId, Live = logs.Text ? null : j.Live })
            .FirstOrDefaultAsync(cancellationToken);
        if (job is null)
        {
            return NotFound(runName);
        }

        if (follow is { } wait)
        {
            if (logs.NextToken is not null && !tokens.TryRead(logs.NextToken, job.Id, descending: false, out _))
            {
                return BadRequest("next_token is not a token this server issued for this run's logs in this direction.");
            }

            if (Logs.LogEventStream.Wanted(http.Request))
            {
                if (query.Wait is not null)
                {
                    return BadRequest("wait applies to a long poll (a JSON answer); an event stream (Accept: text/event-stream) lasts until the run ends or the client leaves.");
                }

                Logs.LogEventStream.Prepare(http.Response);
                return TypedResults.Stream(
                    body => Logs.LogEventStream.WriteAsync(
                        body, feed, job.RunId, logs, position => FollowPageAsync(db, tokens, job.Id, position, json.Value.SerializerOptions, cancellationToken), time, cancellationToken),
                    Logs.LogEventStream.ContentType);
            }

            // The page is serialized once, inside the shared read: every follower it answers is sent the same bytes.
            var followed = await Logs.LogFollow.WaitAsync(
                feed, job.RunId, logs.FollowKey, () => FollowPageAsync(db, tokens, job.Id, logs, json.Value.SerializerOptions, cancellationToken),
                page => page.Page.Logs.Count > 0 || page.Ended, wait, time, cancellationToken);
            return TypedResults.Bytes(followed.Json, "application/json");
        }

        LogCursor? cursor = null;
        if (logs.NextToken is not null)
        {
            if (!tokens.TryRead(logs.NextToken, job.Id, logs.Descending, out var read))
            {
                return BadRequest("next_token is not a token this server issued for this run's logs in this direction.");
            }

            cursor = read;
        }

        var events = logs.Filter(db.LogEvents.AsNoTracking().Where(e => e.JobId == job.Id));
        if (logs.Text)
        {
            var view = new Logs.LogTextWriter(logs.Ansi, logs.Timestamps);
            return TypedResults.Stream(body => StreamTextAsync(events, view, body, cancellationToken), "text/plain; charset=utf-8");
        }

        var (page, nextToken) = await logs.ReadPageAsync(
            events, cursor, last => tokens.Create(job.Id, logs.Descending, new LogCursor(last.Timestamp, last.Id)), cancellationToken);
        return TypedResults.Ok(new LogsResponse(
            [.. page.Select(View)],
            nextToken,
            logs.Source == LogSource.Runner ? null : job.Live));
    }

    /// <summary>A stored event as a JSON page shows it, its style runs included.</summary>
    private static RunLogEvent View(LogEventEntity e) =>
        new(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), e.Message, e.LogSource, Logs.LogTextWriter.ReadStyles(e.Styles));

    /// <summary>One page for a follower, with the job's live region and whether it has ended, read afresh.</summary>
    private static async Task<Logs.FollowedPage> FollowPageAsync(
        ServerDbContext db, LogsPageTokens tokens, Guid jobId, LogsQuery logs, JsonSerializerOptions json, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.Live, j.Status }).SingleAsync(cancellationToken);
        LogCursor? cursor = null;
        if (logs.NextToken is not null)
        {
            // Checked before the follow began (a 400 then), so a refusal here cannot happen.
            cursor = tokens.TryRead(logs.NextToken, jobId, logs.Descending, out var read)
                ? read
                : throw new InvalidOperationException("A follower's next_token is checked before it follows.");
        }

        // A follow is never descending (checked before it began).
        var (page, nextToken) = await logs.ReadPageAsync(
            logs.Filter(db.LogEvents.AsNoTracking().Where(e => e.JobId == jobId)), cursor,
            last => tokens.Create(jobId, descending: false, new LogCursor(last.Timestamp, last.Id)), cancellationToken);
        var response = new LogsResponse(
            [.. page.Select(View)],
            nextToken,
            logs.Source == LogSource.Runner ? null : job.Live);
        return new Logs.FollowedPage(response, Processing.JobStatusMapping.IsFinal(job.Status), JsonSerializer.SerializeToUtf8Bytes(response, json));
    }

    /// <summary>Writes the stored bytes in order, a batch at a time, never holding the whole log. Each batch is
    /// one short query, so a slow reader never holds a read transaction open (which would stall WAL checkpoints).</summary>
    private static async Task StreamTextAsync(IQueryable<LogEventEntity> events, Logs.LogTextWriter view, Stream body, CancellationToken cancellationToken)
    {
        // Events are copied into the pipe's buffers and sent a batch at a time: a write straight to the
        // response body is a flush, so an event of a hundred bytes used to cost a chunk and a send of its own.
        var writer = PipeWriter.Create(body, new StreamPipeWriterOptions(minimumBufferSize: TextBufferSize, leaveOpen: true));
        LogCursor? cursor = null;
        while (true)
        {
            var batch = await LogsQuery.Ordered(events, cursor, descending: false).Take(TextBatchSize).ToListAsync(cancellationToken);
            foreach (var e in batch)
            {
                view.Write(e, writer);
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

    private static ProblemHttpResult NotFound(string runName) =>
        TypedResults.Problem(detail: $"Run '{runName}' does not exist.", statusCode: StatusCodes.Status404NotFound);

    private static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
