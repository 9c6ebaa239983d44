using System.Net;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Runners;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Server.Processing;

/// <summary>
/// SPEC §6 reconciliation: a job the server gave up on (<c>instance_unreachable</c>) may still be running on its runner,
/// which was only slow (paused, partitioned). Such a job keeps <see cref="JobEntity.RunnerReleased"/> false, and each
/// time its backoff allows, this asks the runner again: stop the job (with the user's reason when a stop was asked during
/// the outage, so that stop is delivered), pull what it still holds, and delete it, spool and all, once it has ended and
/// everything is stored. The job's status stays what the server decided; the <c>runner_returned</c> event says what
/// happened. Invariant: a job shown as ended is either released on its runner or still on this list.
/// </summary>
internal sealed class Reconciliation(JobPull pull, ServerSettings settings, TimeProvider time, ILogger logger)
{
    /// <summary>First wait after a failed attempt; doubled per failure up to <see cref="MaxDelay"/>.</summary>
    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    /// <summary>A runner that stays away costs one attempt per half-minute, not one per pass.</summary>
    private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private readonly Backoff _backoff = new(FirstDelay, MaxDelay, time);

    /// <summary>True for a job given up on whose runner may still hold it.</summary>
    public static bool IsPending(JobEntity job) =>
        job.Status.IsFinal() && job.TerminationReason == TerminationReason.InstanceUnreachable && !job.RunnerReleased && job.Runner is not null;

    /// <summary>Forgets the backoff of jobs no longer pending.</summary>
    public void Retain(IEnumerable<Guid> jobIds) => _backoff.Retain(jobIds);

    public async Task ReconcileAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        if (!_backoff.IsDue(job.Id))
        {
            return;
        }

        try
        {
            // A stop of a job that already ended there is a no-op on the runner; one still running gets SIGTERM, then SIGKILL.
            var stop = job.StopRequested
                ? new StopBody(TerminationReason.TerminatedByUser, "Stopped by the user while the runner did not answer")
                : new StopBody(TerminationReason.InstanceUnreachable, $"The server gave up on this job after {settings.RunnerUnreachableTimeout.TotalSeconds:0.###} s without an answer");
            await client.StopAsync(job.Id, stop, cancellationToken);
            if (!await pull.PullAsync(db, job, client, cancellationToken))
            {
                // Still stopping, or more to pull: the next pass carries on at once.
                _backoff.Succeeded(job.Id);
                return;
            }

            await client.DeleteAsync(job.Id, cancellationToken);
            await ReleaseAsync(db, job, $"Runner {job.Runner} answered again: the job given up as unreachable was stopped " +
                (job.StopRequested ? "(as the user asked) " : string.Empty) + "and deleted there, with its spool", cancellationToken);
        }
        catch (ApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            await ReleaseAsync(db, job, $"Runner {job.Runner} answered again and does not hold the job (it never got it, or was restarted since): nothing is left there", cancellationToken);
        }
        catch (Exception e) when (RunnerFailures.IsRunnerFailure(e, cancellationToken))
        {
            var wait = _backoff.Failed(job.Id);
            logger.LogDebug("Runner {Runner} still does not answer for job {JobId} given up as unreachable ({Error}); next try in {Delay}",
                job.Runner, job.Id, Runners.RunnerCallFailure.Describe(e), wait);
        }
    }

    private async Task ReleaseAsync(ServerDbContext db, JobEntity job, string message, CancellationToken cancellationToken)
    {
        // The event and the release commit together: recorded once, however often an attempt was cut short before.
        job.Release();
        db.RunEvents.Add(new RunEventEntity { RunId = job.RunId, Timestamp = time.GetUtcNow(), Type = JobEventTypes.RunnerReturned, Message = message });
        await db.SaveChangesAsync(cancellationToken);
        _backoff.Succeeded(job.Id);
        logger.LogInformation("Job {JobId}: {Message}", job.Id, message);
    }
}
