using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis;

/// <summary>The query of <c>GET /api/runs/{run_name}/logs</c>, as sent: every value is checked by hand so a bad one gets a clear 400.</summary>
public sealed record LogsParameters(
    [property: FromQuery(Name = "start_time")] string? StartTime,
    [property: FromQuery(Name = "end_time")] string? EndTime,
    [property: FromQuery(Name = "limit")] string? Limit,
    [property: FromQuery(Name = "descending")] string? Descending,
    [property: FromQuery(Name = "next_token")] string? NextToken,
    [property: FromQuery(Name = "format")] string? Format);

/// <summary>The runs resource (SPEC §4): submit, list, show, stop, delete, logs.</summary>
public static class RunsApi
{
    private const int MaxLogsLimit = 1000;

    /// <summary>Events per database round trip when streaming <c>?format=text</c>: bounded memory however long the log.</summary>
    private const int TextBatchSize = 256;

    /// <summary>Bytes the text stream gathers before a write to the response: a few events per chunk on the wire.</summary>
    private const int TextBufferSize = 64 * 1024;

    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        // Route values are named as the README and the OpenAPI document name them ({run_name}); every status an
        // endpoint answers is declared, so /openapi/v1.json lists it with its schema (OpenApiTests checks both).
        var api = app.MapGroup("/api/runs").WithTags("Runs");
        api.MapPost("/", SubmitRun).Accepts<SubmitRunRequest>("application/json").WithName("SubmitRun")
            .ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/", ListRuns).WithName("ListRuns");
        api.MapGet("/{run_name}", GetRun).WithName("GetRun").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{run_name}/stop", StopRun).WithName("StopRun").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{run_name}", DeleteRun).WithName("DeleteRun")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/{run_name}/logs", GetLogs).WithName("GetRunLogs").Produces<LogsResponse>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Created<RunDetails>, ValidationProblem, ProblemHttpResult>> SubmitRun(
        HttpRequest request, ServerDbContext db, ServerSettings settings, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(loggers);

        // The body is read here rather than bound, so a malformed one gets a detail saying what is wrong
        // and where, and unknown fields are refused (strict options).
        if (!request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON, sent with Content-Type: application/json.");
        }

        if (request.ContentLength > JobSpecRules.MaxBodyBytes)
        {
            return TooLarge();
        }

        SubmitRunRequest? body;
        try
        {
            // Read whole but bounded (Kestrel holds the same limit; this also holds it for chunked bodies in any host).
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(new BoundedWriteStream(buffer, JobSpecRules.MaxBodyBytes), cancellationToken);
            buffer.Position = 0;
            body = await JsonSerializer.DeserializeAsync<SubmitRunRequest>(buffer, LogQuotaJson.StrictOptions, cancellationToken);
        }
        catch (BodyTooLargeException)
        {
            return TooLarge();
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body is not a valid run: {JsonErrors.Describe(e, typeof(SubmitRunRequest), LogQuotaJson.StrictOptions)}");
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits and malformed framing: 413, 400.
            return Problem(e.StatusCode, e.Message);
        }

        if (body is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body must be a JSON object such as {\"commands\": [\"echo hello\"]}.");
        }

        var errors = RunRequestValidator.Validate(body, settings.LogQuotaPerJobHour);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: string.Join(" ", errors.Values.SelectMany(m => m)));
        }

        var runName = body.RunName;
        if (runName is null)
        {
            do
            {
                runName = RunNames.Generate();
            }
            while (await db.Runs.AnyAsync(r => r.RunName == runName, cancellationToken));
        }
        else if (await db.Runs.AnyAsync(r => r.RunName == runName, cancellationToken))
        {
            return Conflict(runName);
        }

        var now = time.GetUtcNow();
        var run = new RunEntity { Id = Guid.CreateVersion7(now), RunName = runName, SubmittedAt = now };
        run.Jobs.Add(new JobEntity
        {
            Id = Guid.CreateVersion7(now),
            Run = run,
            Status = JobStatus.Submitted,
            SubmittedAt = now,
            Spec = new JobSpec(
                body.Commands,
                body.Env,
                body.WorkingDir,
                body.MaxDuration,
                RunRequestValidator.EffectiveQuota(body.LogQuotaHour, settings.LogQuotaPerJobHour),
                body.Tty ?? true),
        });
        db.Runs.Add(run);
        try
        {
            // The run and its job in one transaction: either both exist or neither.
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Lost a race with another submit of the same name: the unique index decided.
            if (await ExistsAsync(db, runName, cancellationToken))
            {
                return Conflict(runName);
            }

            throw;
        }

        loggers.CreateLogger(typeof(RunsApi)).LogInformation(
            "Run {RunName} submitted with a log quota of {LogQuotaHour} bytes per hour", runName, run.Jobs[0].Spec.LogQuotaHour);
        return TypedResults.Created($"/api/runs/{runName}", RunViews.ToDetails(run));
    }

    public static async Task<Ok<List<RunRow>>> ListRuns(ServerDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var runs = await db.Runs.AsNoTracking()
            .Include(r => r.Jobs)
            .OrderByDescending(r => r.SubmittedAt)
            .ThenByDescending(r => r.RunName)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(runs.Select(RunViews.ToRow).ToList());
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> GetRun([FromRoute(Name = "run_name")] string runName, ServerDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var run = await FindAsync(db, runName, cancellationToken);
        return run is null ? NotFound(runName) : TypedResults.Ok(RunViews.ToDetails(run));
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> StopRun(
        [FromRoute(Name = "run_name")] string runName, ServerDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(time);
        var run = await FindAsync(db, runName, cancellationToken);
        if (run is null)
        {
            return NotFound(runName);
        }

        foreach (var job in run.Jobs.Where(j => !j.Status.IsFinal()))
        {
            // A job no runner has been given yet ends right here. The update is conditional, so if the
            // processor claimed the job a moment ago this changes nothing and the flag below takes over.
            var ended = await db.Jobs
                .Where(j => j.Id == job.Id && j.Status == JobStatus.Submitted)
                .ExecuteUpdateAsync(
                    s => s.SetProperty(j => j.Status, JobStatus.Terminated)
                        .SetProperty(j => j.TerminationReason, TerminationReason.TerminatedByUser)
                        .SetProperty(j => j.TerminationMessage, "Stopped by the user before it started")
                        .SetProperty(j => j.FinishedAt, time.GetUtcNow())
                        .SetProperty(j => j.StopRequested, true),
                    cancellationToken);
            if (ended == 0)
            {
                // On a runner: the processor forwards the stop and keeps pulling until the final state.
                await db.Jobs
                    .Where(j => j.Id == job.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.StopRequested, true), cancellationToken);
            }
        }

        db.ChangeTracker.Clear();
        return TypedResults.Ok(RunViews.ToDetails((await FindAsync(db, runName, cancellationToken))!));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun([FromRoute(Name = "run_name")] string runName, ServerDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var run = await FindAsync(db, runName, cancellationToken);
        if (run is null)
        {
            return NotFound(runName);
        }

        if (run.Jobs.Any(j => !j.Status.IsFinal()))
        {
            return Problem(StatusCodes.Status409Conflict, $"Run '{runName}' has not finished; stop it first (POST /api/runs/{runName}/stop).");
        }

        var jobIds = run.Jobs.Select(j => j.Id).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LogEvents.Where(e => jobIds.Contains(e.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.Jobs.Where(j => j.RunId == run.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Runs.Where(r => r.Id == run.Id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
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
            [.. page.Select(e => new RunLogEvent(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), e.Message))],
            nextToken,
            job.Live));
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

    private static Task<RunEntity?> FindAsync(ServerDbContext db, string runName, CancellationToken cancellationToken) =>
        db.Runs.Include(r => r.Jobs).SingleOrDefaultAsync(r => r.RunName == runName, cancellationToken);

    private static Task<bool> ExistsAsync(ServerDbContext db, string runName, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return db.Runs.AnyAsync(r => r.RunName == runName, cancellationToken);
    }

    private static ProblemHttpResult NotFound(string runName) =>
        Problem(StatusCodes.Status404NotFound, $"Run '{runName}' does not exist.");

    private static ProblemHttpResult Conflict(string runName) =>
        Problem(StatusCodes.Status409Conflict, $"A run named '{runName}' already exists; choose another run_name or delete it first.");

    private static ProblemHttpResult BadRequest(string detail) => Problem(StatusCodes.Status400BadRequest, detail);

    private static ProblemHttpResult TooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {JobSpecRules.MaxBodyBytes} bytes.");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
