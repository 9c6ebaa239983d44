using System.Net;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Polly;
using Refit;

namespace LogQuota.Server.Processing;

/// <summary>
/// What the job processor does when a runner fails a job rather than running it: it refused the job, it ended with an
/// earlier server process (the local runner), or it has not answered for longer than the unreachable timeout. Each ends
/// the job with the reason the user reads, keeping its stored logs; and which failures count as the runner's at all.
/// </summary>
internal sealed class RunnerFailures(ServerSettings settings, TimeProvider time, ILogger logger)
{
    /// <summary>The runner answered but refused (400, 404, 409): the job cannot go on there.</summary>
    public async Task RefusedAsync(ServerDbContext db, JobEntity job, ApiException e, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var fresh = await db.Jobs.SingleOrDefaultAsync(j => j.Id == job.Id, cancellationToken);
        if (fresh is null || fresh.RunnerReleased)
        {
            return;
        }

        // A runner forgets a job only when the server deletes it, so a 404 for a job still running means the
        // runner process that had it is gone (restarted), and with it the job: its new process killed what was
        // left. Waiting for the unreachable timeout would only delay the same verdict. A job whose final state is
        // stored is only released: the runner just does not know it any more (deleted it already).
        var message = e.StatusCode == HttpStatusCode.NotFound
            ? $"Runner {fresh.Runner} no longer knows job {fresh.Id}: it was restarted, and the job ended with its previous process"
            : $"The runner {fresh.Runner} refused the job with {(int)e.StatusCode}: {Truncate(e.Content)}";
        if (fresh.TryEnd(JobEnd.ExecutorError(message), time.GetUtcNow()))
        {
            logger.LogError("Runner {Runner} refused job {JobId}: {StatusCode} {Detail}", fresh.Runner, fresh.Id, (int)e.StatusCode, e.Content);
        }

        fresh.Release();
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The job is on the local runner of an earlier process of this server (killed without a shutdown): that runner,
    /// and the job's processes, ended with it (the new local runner killed any left on its directory). A job that was
    /// never seen running goes back to the queue; one that ran fails at once, with its stored logs kept.
    /// </summary>
    public async Task LocalRunnerGoneAsync(ServerDbContext db, JobEntity job, CancellationToken cancellationToken)
    {
        if (job.Status == JobStatus.Provisioning && !job.StopRequested)
        {
            job.Status = JobStatus.Submitted;
            job.Runner = null;
            logger.LogWarning("Job {JobId} was being submitted to the local runner of an earlier server process; it is queued again", job.Id);
        }
        else
        {
            // Stopped while it was being submitted, it never ran; one that ran (and did not end) ended with that runner.
            var stoppedBeforeStart = job.TryEnd(JobEnd.StoppedBeforeStart, time.GetUtcNow(), expected: JobStatus.Provisioning);
            if (!stoppedBeforeStart && job.TryEnd(JobEnd.ExecutorError($"The local runner {job.Runner} ended with an earlier process of the server, and the job with it"), time.GetUtcNow()))
            {
                logger.LogError("Job {JobId} failed: its local runner {Runner} ended with an earlier server process", job.Id, job.Runner);
            }

            job.Release();
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>No successful call for longer than the timeout: the job fails, its stored logs stay.</summary>
    public async Task UnreachableAsync(ServerDbContext db, JobEntity job, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var fresh = await db.Jobs.SingleOrDefaultAsync(j => j.Id == job.Id, cancellationToken);
        if (fresh is null || fresh.RunnerReleased)
        {
            return;
        }

        var message = $"The runner {fresh.Runner} did not answer for {settings.RunnerUnreachableTimeout.TotalSeconds:0.###} s";
        if (fresh.TryEnd(new JobEnd(JobStatus.Failed, TerminationReason.InstanceUnreachable, message), time.GetUtcNow()))
        {
            db.RunEvents.Add(new RunEventEntity
            {
                RunId = fresh.RunId, Timestamp = time.GetUtcNow(), Type = JobEventTypes.RunnerUnreachable, Message = message,
            });
            logger.LogError("Job {JobId} failed: runner {Runner} unreachable for {Timeout}", fresh.Id, fresh.Runner, settings.RunnerUnreachableTimeout);

            // Not released: the job may still run there. Reconciliation stops and deletes it when the runner answers again.
        }
        else
        {
            // It had ended and was stored; only its spool is left there. Given up on: nothing more is asked of that runner.
            logger.LogWarning("Giving up releasing job {JobId} on unreachable runner {Runner}", fresh.Id, fresh.Runner);
            fresh.Release();
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A failure of the runner or the network between us, as opposed to one of ours (a database error).</summary>
    public static bool IsRunnerFailure(Exception e, CancellationToken cancellationToken) => e switch
    {
        ApiException => true,
        // Refit 16 wraps transport failures (connection refused, reset) in ApiRequestException, not HttpRequestException.
        ApiRequestException => true,
        HttpRequestException => true,
        ExecutionRejectedException => true,
        System.Text.Json.JsonException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        _ => false,
    };

    /// <summary>A 4xx is the runner's considered answer about this job; 408 and 429 only mean "not now".</summary>
    public static bool IsRefusal(HttpStatusCode status) =>
        status is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError
            and not HttpStatusCode.RequestTimeout and not HttpStatusCode.TooManyRequests;

    private static string Truncate(string? text) =>
        text is null ? string.Empty : text.Length <= 500 ? text : text[..500] + "…";
}
