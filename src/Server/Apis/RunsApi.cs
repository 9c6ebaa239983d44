using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text.Json;
using LogQuota.Server.Apis.Lists;
using LogQuota.Server.Code;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis;

/// <summary>The runs resource (SPEC §4): submit, list, show, stop, delete; the logs are in <see cref="RunLogsApi"/>.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        // Route values are named as the README and the OpenAPI document name them ({run_name}); every status an
        // endpoint answers is declared, so /openapi/v1.json lists it with its schema (OpenApiTests checks both).
        var api = app.MapGroup("/api/runs").WithTags("Runs");
        // 503: the database cannot be written right now (Data/Faults), with Retry-After.
        api.MapPost("/", SubmitRun).Accepts<SubmitRunRequest>("application/json").WithName("SubmitRun")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/", RunsListApi.ListRuns).WithName("ListRuns").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{run_name}", GetRun).WithName("GetRun").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{run_name}/stop", StopRun).WithName("StopRun").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapDelete("/{run_name}", DeleteRun).WithName("DeleteRun")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapRunLogsApi();
        return app;
    }

    internal static async Task<Results<Created<RunDetails>, ValidationProblem, ProblemHttpResult>> SubmitRun(
        HttpRequest request, ServerDbContext db, ServerSettings settings, RunnerCapacities capacities, TimeProvider time, ILoggerFactory loggers,
        CancellationToken cancellationToken)
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

        var errors = RunRequestValidator.Validate(body, settings.LogQuotaPerJobHour, settings.LogQuotaAction);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: string.Join(" ", errors.Values.SelectMany(m => m)));
        }

        var resources = RunRequestValidator.Asked(body.Resources);
        if (resources is not null)
        {
            switch (await capacities.RefusalsAsync(resources, cancellationToken))
            {
                case null:
                    request.HttpContext.Response.Headers.RetryAfter = "5";
                    return Problem(StatusCodes.Status503ServiceUnavailable, "No runner answered its health check, so the server cannot tell whether one can give the resources asked; try again shortly.");
                case { Count: > 0 } refusals:
                    return TypedResults.ValidationProblem(refusals, detail: string.Join(" ", refusals.Values.SelectMany(m => m)));
            }
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

        // Naming the code and storing the job are one transaction, which the code garbage collector cannot cut in two.
        await using var transaction = body.CodeHash is null ? null : await db.Database.BeginTransactionAsync(cancellationToken);
        if (body.CodeHash is { } codeHash && !await CodeStore.TouchAsync(db, codeHash, now, cancellationToken))
        {
            return Problem(StatusCodes.Status404NotFound,
                $"The server holds no code {codeHash}; upload it first with PUT /api/code/{codeHash} (logquota run does both).");
        }

        var run = new RunEntity { Id = Guid.CreateVersion7(now), RunName = runName, SubmittedAt = now };
        run.Jobs.Add(new JobEntity
        {
            Id = Guid.CreateVersion7(now),
            Run = run,
            Status = JobStatus.Submitted,
            SubmittedAt = now,
            CodeHash = body.CodeHash,
            Spec = new JobSpec(
                body.Commands,
                body.Env,
                body.WorkingDir,
                body.MaxDuration,
                RunRequestValidator.EffectiveQuota(body.LogQuotaHour, settings.LogQuotaPerJobHour),
                body.Tty ?? true,
                body.LogQuotaAction ?? settings.LogQuotaAction,
                settings.LogQuotaWarnAt,
                body.LogQuotaKillGrace ?? 0,
                body.CodeHash,
                resources),
        });
        db.Runs.Add(run);
        try
        {
            // The run and its job in one transaction: either both exist or neither.
            await db.SaveChangesAsync(cancellationToken);
            if (transaction is not null)
            {
                await transaction.CommitAsync(cancellationToken);
            }
        }
        catch (DbUpdateException)
        {
            // PostgreSQL takes no query in a failed transaction.
            if (transaction is not null)
            {
                await transaction.RollbackAsync(cancellationToken);
            }

            // Lost a race with another submit of the same name: the unique index decided.
            if (await ExistsAsync(db, runName, cancellationToken))
            {
                return Conflict(runName);
            }

            throw;
        }

        loggers.CreateLogger(typeof(RunsApi)).LogInformation(
            "Run {RunName} submitted with a log quota of {LogQuotaHour} bytes per hour", runName, run.Jobs[0].Spec.LogQuotaHour);
        return TypedResults.Created($"/api/runs/{runName}", RunViews.ToDetails(run, []));
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> GetRun([FromRoute(Name = "run_name")] string runName, ServerDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var run = await FindAsync(db, runName, cancellationToken);
        return run is null ? NotFound(runName) : TypedResults.Ok(await DetailsAsync(db, run, cancellationToken));
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

        if (run.Jobs.Any(j => !j.Status.IsFinal()))
        {
            db.RunEvents.Add(new RunEventEntity
            {
                RunId = run.Id, Timestamp = time.GetUtcNow(), Type = JobEventTypes.StopRequested, Message = "A stop was asked through the API",
            });
            await db.SaveChangesAsync(cancellationToken);
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
        return TypedResults.Ok(await DetailsAsync(db, (await FindAsync(db, runName, cancellationToken))!, cancellationToken));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun(
        [FromRoute(Name = "run_name")] string runName, ServerDbContext db, ServerSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(settings);
        var run = await FindAsync(db, runName, cancellationToken);
        if (run is null)
        {
            return NotFound(runName);
        }

        if (run.Jobs.Any(j => !j.Status.IsFinal()))
        {
            return Problem(StatusCodes.Status409Conflict, $"Run '{runName}' has not finished; stop it first (POST /api/runs/{runName}/stop).");
        }

        // Like a Kubernetes finalizer: a job given up on while its runner was away may still run there, and only its row
        // lets the server stop and delete it when the runner answers again (SPEC §6 reconciliation). A runner no longer
        // configured is never asked again, so its jobs do not hold the run (nor do the local runner's: it went with its process).
        if (run.Jobs.FirstOrDefault(j => Reconciliation.IsPending(j) && settings.Runners.Any(r => r.ToString() == j.Runner)) is { } pending)
        {
            return Problem(StatusCodes.Status409Conflict,
                $"Run '{runName}' cannot be deleted yet: its job may still run on {pending.Runner}, which stopped answering; the server stops and " +
                "deletes it there when that runner answers again (a runner_returned event), and the run can be deleted then.");
        }

        var jobIds = run.Jobs.Select(j => j.Id).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LogEvents.Where(e => jobIds.Contains(e.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.RunEvents.Where(e => e.RunId == run.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Jobs.Where(j => j.RunId == run.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Runs.Where(r => r.Id == run.Id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<RunDetails> DetailsAsync(ServerDbContext db, RunEntity run, CancellationToken cancellationToken)
    {
        var events = await db.RunEvents.AsNoTracking().Where(e => e.RunId == run.Id).ToListAsync(cancellationToken);
        return RunViews.ToDetails(run, events);
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

    private static ProblemHttpResult TooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {JobSpecRules.MaxBodyBytes} bytes.");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
