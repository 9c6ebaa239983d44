using LogQuota.Server.Apis;
using LogQuota.Server.Code;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Server.Runners;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Runs;

/// <summary>
/// What can be done to runs (SPEC §4): submit, show, stop, delete. The API's endpoints and the web page both call
/// it, so both accept and refuse the same things in the same words; neither calls the other. Each operation is on a
/// run of one project (<c>main</c> when null), which <see cref="TeamAccess"/> says whether the caller reaches.
/// </summary>
public sealed class RunsService(
    ServerDbContext db, TeamAccess access, ServerSettings settings, RunnerCapacities capacities, TimeProvider time, ILogger<RunsService> logger)
{
    /// <summary>Checks <paramref name="request"/> against the rules and the server's quota, and stores the run and its job.</summary>
    public async Task<RunOutcome> SubmitAsync(Caller caller, string? project, SubmitRunRequest request, CancellationToken cancellationToken)
    {
        var (reached, refused) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return RunOutcome.Refused(refused!);
        }

        var projectId = reached.ProjectId;
        if (await ProblemAsync(projectId, reached.Project, request, cancellationToken) is { } problem)
        {
            return RunOutcome.Refused(problem);
        }

        var resources = RunRequestValidator.Asked(request.Resources);
        var runName = request.RunName;
        if (runName is null)
        {
            do
            {
                runName = RunNames.Generate();
            }
            while (await db.Runs.AnyAsync(r => r.ProjectId == projectId && r.RunName == runName, cancellationToken));
        }

        var now = time.GetUtcNow();

        // Naming the code and storing the job are one transaction, which the code garbage collector cannot cut in two.
        await using var transaction = request.CodeHash is null ? null : await db.Database.BeginTransactionAsync(cancellationToken);
        if (request.CodeHash is { } codeHash && !await CodeStore.TouchAsync(db, codeHash, now, cancellationToken))
        {
            return RunOutcome.Refused(new RunProblem(StatusCodes.Status404NotFound,
                $"The server holds no code {codeHash}; upload it first with PUT /api/code/{codeHash} (logquota run does both)."));
        }

        var run = new RunEntity
        {
            Id = Guid.CreateVersion7(now), ProjectId = projectId, RunName = runName, SubmittedAt = now, SubmittedById = caller.UserId, SubmittedBy = caller.Name,
        };
        run.Jobs.Add(new JobEntity
        {
            Id = Guid.CreateVersion7(now),
            Run = run,
            ProjectId = projectId,
            Status = JobStatus.Submitted,
            SubmittedAt = now,
            CodeHash = request.CodeHash,
            Spec = new JobSpec(
                request.Commands,
                request.Env,
                request.WorkingDir,
                request.MaxDuration,
                RunRequestValidator.EffectiveQuota(request.LogQuotaHour, settings.LogQuotaPerJobHour),
                request.Tty ?? true,
                request.LogQuotaAction ?? settings.LogQuotaAction,
                settings.LogQuotaWarnAt,
                request.LogQuotaKillGrace ?? 0,
                request.CodeHash,
                resources,
                request.Columns,
                request.Secrets is { Count: > 0 } ? request.Secrets : null),
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
            if (await ExistsAsync(projectId, runName, cancellationToken))
            {
                return RunOutcome.Refused(RunProblem.NameTaken(runName));
            }

            throw;
        }

        logger.LogInformation(
            "Run {RunName} of project {Project} submitted by {Caller} with a log quota of {LogQuotaHour} bytes per hour",
            runName, reached.Project, caller.Name, run.Jobs[0].Spec.LogQuotaHour);
        return RunOutcome.Done(RunViews.ToDetails(run, [], caller));
    }

    /// <summary>
    /// What <see cref="SubmitAsync"/> would refuse in <paramref name="request"/>, without storing anything: the web form
    /// shows it beside the fields it could not read, so every field is answered in one round. Done (with no run) when
    /// nothing is wrong.
    /// </summary>
    public async Task<RunOutcome> CheckAsync(Caller caller, string? project, SubmitRunRequest request, CancellationToken cancellationToken)
    {
        var (reached, refused) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return RunOutcome.Refused(refused!);
        }

        return await ProblemAsync(reached.ProjectId, reached.Project, request, cancellationToken) is { } problem ? RunOutcome.Refused(problem) : RunOutcome.Done(null);
    }

    /// <summary>The run with its jobs and events, as stored now.</summary>
    public async Task<RunOutcome> GetAsync(Caller caller, string? project, string runName, CancellationToken cancellationToken)
    {
        // A stop or delete earlier in the same scope (the web page's post) left what it read tracked, and stale.
        db.ChangeTracker.Clear();
        var (run, refused) = await FindAsync(caller, project, runName, cancellationToken);
        return run is null ? RunOutcome.Refused(refused!) : RunOutcome.Done(await DetailsAsync(run, caller, cancellationToken));
    }

    /// <summary>
    /// Asks every unfinished job of the run to stop: one no runner has yet ends here, the others are stopped on their
    /// runner by the processor, which keeps pulling until their final state.
    /// </summary>
    public async Task<RunOutcome> StopAsync(Caller caller, string? project, string runName, CancellationToken cancellationToken)
    {
        var (run, refused) = await FindAsync(caller, project, runName, cancellationToken);
        if (run is null)
        {
            return RunOutcome.Refused(refused!);
        }

        if (run.Jobs.Any(j => !j.Status.IsFinal()))
        {
            db.RunEvents.Add(new RunEventEntity
            {
                RunId = run.Id, Timestamp = time.GetUtcNow(), Type = JobEventTypes.StopRequested, Message = $"A stop was asked by {caller.Name}",
            });
            await db.SaveChangesAsync(cancellationToken);
        }

        foreach (var job in run.Jobs.Where(j => !j.Status.IsFinal()))
        {
            // A job no runner has been given yet ends right here. The update is conditional, so if the
            // processor claimed the job a moment ago this changes nothing and the flag below takes over.
            var ended = await JobEnding.TryEndAsync(
                db.Jobs.Where(j => j.Id == job.Id), JobEnd.StoppedBeforeStart, time.GetUtcNow(), expected: JobStatus.Submitted,
                s => s.SetProperty(j => j.StopRequested, true), cancellationToken);
            if (ended == 0)
            {
                // On a runner: the processor forwards the stop and keeps pulling until the final state.
                await db.Jobs
                    .Where(j => j.Id == job.Id)
                    .ExecuteUpdateAsync(s => s.SetProperty(j => j.StopRequested, true), cancellationToken);
            }
        }

        db.ChangeTracker.Clear();
        return RunOutcome.Done(await DetailsAsync((await FindAsync(caller, project, runName, cancellationToken)).Run!, caller, cancellationToken));
    }

    /// <summary>Deletes a finished run with its jobs, logs and events; refused while a job may still run.</summary>
    public async Task<RunOutcome> DeleteAsync(Caller caller, string? project, string runName, CancellationToken cancellationToken)
    {
        var (run, refused) = await FindAsync(caller, project, runName, cancellationToken);
        if (run is null)
        {
            return RunOutcome.Refused(refused!);
        }

        if (run.Jobs.Any(j => !j.Status.IsFinal()))
        {
            return RunOutcome.Refused(new RunProblem(StatusCodes.Status409Conflict, $"Run '{runName}' has not finished; stop it first (POST /api/runs/{runName}/stop)."));
        }

        // Like a Kubernetes finalizer: a job given up on while its runner was away may still run there, and only its row
        // lets the server stop and delete it when the runner answers again (SPEC §6 reconciliation). A runner no longer
        // configured is never asked again, so its jobs do not hold the run (nor do the local runner's: it went with its process).
        if (run.Jobs.FirstOrDefault(j => Reconciliation.IsPending(j) && settings.Runners.Any(r => r.ToString() == j.Runner)) is { } pending)
        {
            return RunOutcome.Refused(new RunProblem(StatusCodes.Status409Conflict,
                $"Run '{runName}' cannot be deleted yet: its job may still run on {pending.Runner}, which stopped answering; the server stops and " +
                "deletes it there when that runner answers again (a runner_returned event), and the run can be deleted then."));
        }

        var jobIds = run.Jobs.Select(j => j.Id).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LogEvents.Where(e => jobIds.Contains(e.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.LogSectionMarks.Where(e => jobIds.Contains(e.JobId)).ExecuteDeleteAsync(cancellationToken);
        await db.RunEvents.Where(e => e.RunId == run.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Jobs.Where(j => j.RunId == run.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Runs.Where(r => r.Id == run.Id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return RunOutcome.Done(null);
    }

    private async Task<RunDetails> DetailsAsync(RunEntity run, Caller caller, CancellationToken cancellationToken)
    {
        var events = await db.RunEvents.AsNoTracking().Where(e => e.RunId == run.Id).ToListAsync(cancellationToken);
        return RunViews.ToDetails(run, events, caller);
    }

    /// <summary>
    /// Every problem a submit of <paramref name="request"/> into the project meets, all at once: the rules (400, by
    /// field), resources no runner can give, and a name already taken, which is a 409 when it is the only problem.
    /// </summary>
    private async Task<RunProblem?> ProblemAsync(Guid projectId, string project, SubmitRunRequest request, CancellationToken cancellationToken)
    {
        var errors = RunRequestValidator.Validate(request, settings.LogQuotaPerJobHour, settings.LogQuotaAction);
        if (!errors.ContainsKey("secrets") && request.Secrets is { Count: > 0 } secrets
            && await SecretsService.FirstMissingAsync(db, projectId, secrets, cancellationToken) is { } missing)
        {
            errors["secrets"] = [$"Project '{project}' has no secret named {JobSpecRules.Quote(missing)}; a manager sets it with PUT /api/projects/{project}/secrets/{missing}."];
        }

        // Only resources that pass the rules are worth a question to the runners.
        if (RunRequestValidator.Asked(request.Resources) is { } resources && !errors.Keys.Any(k => k.StartsWith("resources.", StringComparison.Ordinal)))
        {
            switch (await capacities.RefusalsAsync(resources, cancellationToken))
            {
                case null when errors.Count == 0:
                    return RunProblem.NoRunnerAnswered();
                case { Count: > 0 } refusals:
                    foreach (var (field, messages) in refusals)
                    {
                        errors[field] = messages;
                    }

                    break;
            }
        }

        var taken = request.RunName is { } name && !errors.ContainsKey("run_name")
            && await db.Runs.AnyAsync(r => r.ProjectId == projectId && r.RunName == name, cancellationToken);
        if (errors.Count == 0)
        {
            return taken ? RunProblem.NameTaken(request.RunName!) : null;
        }

        if (taken)
        {
            errors["run_name"] = [RunProblem.NameTaken(request.RunName!).Detail];
        }

        return RunProblem.Invalid(errors);
    }

    /// <summary>The run, when the caller reaches its project and the project holds it; else the 404 (of the project, or of the run).</summary>
    private async Task<(RunEntity? Run, RunProblem? Problem)> FindAsync(Caller caller, string? project, string runName, CancellationToken cancellationToken)
    {
        var (reached, refused) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return (null, refused);
        }

        var run = await db.Runs.Include(r => r.Jobs)
            .SingleOrDefaultAsync(r => r.ProjectId == reached.ProjectId && r.RunName == runName, cancellationToken);
        return run is null ? (null, RunProblem.NotFound(runName)) : (run, null);
    }

    private Task<bool> ExistsAsync(Guid projectId, string runName, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return db.Runs.AnyAsync(r => r.ProjectId == projectId && r.RunName == runName, cancellationToken);
    }
}
