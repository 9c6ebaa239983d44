using System.Net;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Data.Faults;
using LogQuota.Server.Metrics;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Refit;

namespace LogQuota.Server.Processing;

/// <summary>
/// One pass over the jobs: assign waiting jobs to runners, then for each job on a runner submit it, forward a
/// stop, pull its states and logs, and forget it on the runner once everything is stored. Each job's
/// progress lives in the database, so a pass can be cut off at any point and the next one carries on.
/// </summary>
internal sealed class JobProcessor(
    IServiceScopeFactory scopes,
    RunnerPool runners,
    RunnerCapacities capacities,
    JobLeases leases,
    ServerSettings settings,
    TimeProvider time,
    ServerMetrics metrics,
    StorageHealth storage,
    Code.CodeStore code,
    StreamedJobs streamed,
    Teams.SecretProtection secrets,
    Budgets.ProjectBudgets budgets,
    ILogger<JobProcessor> logger) : IDisposable
{
    /// <summary>Jobs processed side by side; a runner that hangs holds up only its own jobs.</summary>
    internal const int MaxParallelJobs = 8;

    private readonly SemaphoreSlim _pass = new(1, 1);
    private readonly JobPull _pull = new(logger, leases, metrics, budgets);

    // Its own JobPull (a field initializer cannot use _pull); a JobPull holds nothing but references to shared services.
    private readonly Reconciliation _reconciliation = new(new JobPull(logger, leases, metrics, budgets), settings, time, logger);

    private readonly JobAssignment _assignment = new(scopes, runners, capacities, leases, logger);
    private readonly JobSubmission _submission = new(code, secrets, time, logger);
    private readonly RunnerContact _contact = new(time);

    private readonly StorageBackoff _storage = new(storage, time, logger);
    private readonly RunnerFailures _failures = new(settings, time, logger);

    public void Dispose() => _pass.Dispose();

    public Task ProcessOnceAsync(CancellationToken cancellationToken) => PassAsync(finalPass: false, cancellationToken);

    /// <summary>
    /// The last pass of a stopping server: stores what the runners hold for the jobs they run (the local runner's
    /// final states, above all) and releases the ended ones. Nothing new is assigned or submitted.
    /// </summary>
    public Task ProcessFinalPassAsync(CancellationToken cancellationToken) => PassAsync(finalPass: true, cancellationToken);

    private async Task PassAsync(bool finalPass, CancellationToken cancellationToken)
    {
        await _pass.WaitAsync(cancellationToken);
        try
        {
            // While the database cannot be written, a pass would pull pages only to fail storing them: wait out the backoff.
            if (!finalPass && !_storage.IsDue)
            {
                return;
            }

            var started = time.GetTimestamp();
            var faults = new List<(Guid JobId, StorageFault Fault)>();
            try
            {
                await RunPassAsync(finalPass, faults, cancellationToken);
            }
            catch (Exception e) when (StorageFault.From(e) is { } fault)
            {
                lock (faults)
                {
                    faults.Add((Guid.Empty, fault));
                }
            }
            finally
            {
                metrics.PassEnded(time.GetElapsedTime(started));
            }

            faults.AddRange(streamed.StoreFaults());

            await _storage.PassEndedAsync(scopes, faults, cancellationToken);
        }
        finally
        {
            _pass.Release();
        }
    }

    private async Task RunPassAsync(bool finalPass, List<(Guid JobId, StorageFault Fault)> faults, CancellationToken cancellationToken)
    {
        if (!finalPass)
        {
            await _assignment.AssignAsync(cancellationToken);
        }

        // Only the jobs a call may be due for: a job whose runner's stream carries it is read and written here only when it is
        // being submitted, a stop waits or it ended, so an idle job costs a pass nothing (bench/RESULTS.md).
        List<Guid> jobs;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            var carried = await streamed.RefreshAsync(db, finalPass, cancellationToken);
            var claimed = await leases.ClaimAsync(db, runners.Runners, includeUnsubmitted: !finalPass, carried, cancellationToken);
            jobs = await streamed.SelectAsync(db, claimed, cancellationToken);
        }

        _contact.Retain(jobs);
        _reconciliation.Retain(jobs);
        await Parallel.ForEachAsync(
            jobs,
            new ParallelOptions { MaxDegreeOfParallelism = MaxParallelJobs, CancellationToken = cancellationToken },
            async (jobId, ct) =>
            {
                try
                {
                    await ProcessJobAsync(jobId, ct);
                }
                catch (LeaseLostException e)
                {
                    // Another replica took the job over while this one pulled: what was pulled is not stored here.
                    logger.LogWarning("Job {JobId} is processed by another replica now: {Reason}", jobId, e.Message);
                }
                catch (DbUpdateConcurrencyException)
                {
                    // The pull position moved under this pass (another replica stored the same page first): nothing
                    // of this page was stored, and the job's next pass starts from the position that won.
                    logger.LogWarning("Job {JobId} was stored by another replica meanwhile; this pass's page was dropped", jobId);
                }
                catch (Exception e) when (StorageFault.From(e) is { } fault)
                {
                    // Nothing was stored of the page (its transaction rolled back); the runner keeps it until it is.
                    lock (faults)
                    {
                        faults.Add((jobId, fault));
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    // Nothing was half-stored (each step is one transaction); the next pass retries the job.
                    logger.LogError(e, "Processing job {JobId} failed; it is retried on the next pass", jobId);
                }
            });

        // Every release of a job happens to a job of a pass (or of a restarted runner's stream answer, which forgets its own).
        if (jobs.Count > 0)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            metrics.Lag.Forget(await db.Jobs.Where(j => jobs.Contains(j.Id) && j.RunnerReleased).Select(j => j.Id).ToListAsync(cancellationToken));
        }
    }

    private async Task ProcessJobAsync(Guid jobId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var job = await db.Jobs.Include(j => j.Run).SingleOrDefaultAsync(j => j.Id == jobId, cancellationToken);
        if (job?.Runner is null || job.RunnerReleased)
        {
            return;
        }

        var client = runners.Client(job.Runner);
        if (client is null && (settings.UsesEmbeddedRunner || job.EmbeddedRunner))
        {
            await _failures.LocalRunnerGoneAsync(db, job, cancellationToken);
            return;
        }

        if (Reconciliation.IsPending(job))
        {
            if (client is null)
            {
                // Not one of our runners any more: nobody is left to ask.
                logger.LogWarning("Job {JobId} was given up on runner {Runner}, which is no longer configured; it is not reconciled", job.Id, job.Runner);
                job.Release();
                await db.SaveChangesAsync(cancellationToken);
                return;
            }

            await _reconciliation.ReconcileAsync(db, job, client, cancellationToken);
            return;
        }

        var sinceContact = _contact.Start(jobId);

        try
        {
            if (client is null)
            {
                throw new HttpRequestException($"The runner {job.Runner} is not configured any more.");
            }

            await ProcessOnRunnerAsync(db, job, client, cancellationToken);
            _contact.Mark(jobId);
            runners.Report(job.Runner, healthy: true);
        }
        catch (Exception e) when (StorageFault.From(e) is not null)
        {
            // The runner answered; our database did not take it. That silence is ours, not the runner's.
            _contact.Mark(jobId);
            throw;
        }
        catch (ApiException e) when (RunnerFailures.IsRefusal(e.StatusCode))
        {
            _contact.Mark(jobId);
            await _failures.RefusedAsync(db, job, e, cancellationToken);
        }
        catch (Exception e) when (RunnerFailures.IsRunnerFailure(e, cancellationToken))
        {
            runners.Report(job.Runner, healthy: false);
            if (time.GetElapsedTime(sinceContact) < settings.RunnerUnreachableTimeout)
            {
                logger.LogWarning("Runner {Runner} did not answer for job {JobId}: {Error}", job.Runner, jobId, RunnerCallFailure.Describe(e));
                logger.LogDebug(e, "Runner {Runner} did not answer for job {JobId}", job.Runner, jobId);
                return;
            }

            await _failures.UnreachableAsync(db, job, cancellationToken);
        }
    }

    private async Task ProcessOnRunnerAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        if (job.StopRequested && !job.StopSent && !job.Status.IsFinal())
        {
            await StopAsync(db, job, client, cancellationToken);
            if (job.RunnerReleased)
            {
                return;
            }
        }
        else if (job.Status == JobStatus.Provisioning)
        {
            // Submitting is idempotent on the runner, so a server that died between the runner's 200 and
            // the next state change simply submits again.
            if (!await _submission.SubmitAsync(db, job, client, cancellationToken))
            {
                return;
            }

            streamed.Submitted(job.Id);
        }

        if (streamed.Carries(job))
        {
            // Its events come through the runner's stream. An ended job's final state came last, after all its logs: everything is stored.
            if (job.Status.IsFinal())
            {
                await ReleaseAsync(db, job, client, cancellationToken);
            }

            return;
        }

        var drained = await _pull.PullAsync(db, job, client, cancellationToken);
        if (drained && job.Status.IsFinal())
        {
            await ReleaseAsync(db, job, client, cancellationToken);
        }
    }

    /// <summary>Everything the runner had is stored: only now may it forget the job and its spool.</summary>
    private async Task ReleaseAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        try
        {
            await client.DeleteAsync(job.Id, cancellationToken);
        }
        catch (ApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            // The runner records a job's final state a moment before its supervisor lets go of it; a server that read
            // that state from the stream can ask in between. Released on a later pass, never given up: the runner would
            // keep the job and its spool for as long as it runs.
            logger.LogInformation("Runner {Runner} still holds ended job {JobId}; it is released on a later pass", job.Runner, job.Id);
            return;
        }

        job.Release();
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Job {JobId} ended {Status}; runner {Runner} released it", job.Id, job.Status, job.Runner);
    }

    private async Task StopAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        try
        {
            await client.StopAsync(job.Id, job.StopReason is TerminationReason.LogBudgetExceeded
                ? new StopBody(TerminationReason.LogBudgetExceeded, "Job log output crossed its project's hourly log budget")
                : new StopBody(TerminationReason.TerminatedByUser, "Stopped by the user"), cancellationToken);
            job.StopSent = true;
            if (job.Status is JobStatus.Provisioning or JobStatus.Running)
            {
                job.Status = JobStatus.Terminating;
            }
        }
        catch (ApiException e) when (e.StatusCode == HttpStatusCode.NotFound && job.Status == JobStatus.Provisioning)
        {
            // The runner never got the job (the stop came between assignment and submission): it ends here.
            job.TryEnd(JobEnd.StoppedBeforeStart, time.GetUtcNow(), expected: JobStatus.Provisioning);
            job.StopSent = true;
            job.Release();
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}
