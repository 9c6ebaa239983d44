using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Server.Replicas;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Processing;

/// <summary>
/// Pulls a job's states, logs, quota block and events from its runner, page by page, and stores each page in one
/// transaction with the pull position (SPEC §6). The other half of <see cref="JobProcessor"/>: that one decides what
/// to do with a job, this one moves its data.
/// </summary>
internal sealed class JobPull(ILogger logger, JobLeases leases, ServerMetrics metrics, Budgets.ProjectBudgets budgets)
{
    /// <summary>Pages pulled per job per pass: a job that logs faster than we store cannot starve the others.</summary>
    private const int MaxPagesPerPass = 50;

    /// <summary>Pulls until the runner has nothing more right now; true when it has nothing more at all.</summary>
    public async Task<bool> PullAsync(ServerDbContext db, JobEntity job, IRunnerApi client, CancellationToken cancellationToken)
    {
        using var ahead = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var next = client.PullAsync(job.Id, job.RunnerTimestamp, ahead.Token);
        for (var page = 0; page < MaxPagesPerPass; page++)
        {
            var response = await next;
            var lastUpdated = Math.Max(job.RunnerTimestamp, response.LastUpdated);
            var empty = response.JobLogs.Count == 0 && response.JobStates.Count == 0;

            // The next page is fetched (and its JSON decoded) while this one is stored: the two take about the same
            // time on different cores, so a job logging at full speed is stored up to twice as fast. A pull is
            // read-only on the runner, so a page fetched ahead and then dropped (this commit failed) costs nothing.
            var fetchingAhead = response.HasMore && !empty && page + 1 < MaxPagesPerPass;
            if (fetchingAhead)
            {
                next = client.PullAsync(job.Id, lastUpdated, ahead.Token);
            }

            try
            {
                if (JobPage.HasNews(job, response, lastUpdated))
                {
                    await StorePageAsync(db, job, response, lastUpdated, cancellationToken);
                }
            }
            catch when (fetchingAhead)
            {
                // The page fetched ahead is not wanted any more: stop it, and wait for it so no request of this
                // pass outlives it (its own failure, if any, is observed here and dropped).
                await ahead.CancelAsync();
                await next.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                throw;
            }

            metrics.Lag.Pulled(job.Id, caughtUp: empty || !response.HasMore, lastUpdated);
            if (!response.HasMore)
            {
                return true;
            }

            if (empty)
            {
                return false;
            }
        }

        return false;
    }

    private async Task StorePageAsync(ServerDbContext db, JobEntity job, PullResponse response, long lastUpdated, CancellationToken cancellationToken)
    {
        var droppedBefore = job.LogQuota?.DroppedBytes ?? 0;

        // One transaction: the events, the state, the pull position, the quota and the live region commit together. Killed
        // before the commit, the server pulls the same events again; after it, it asks for later ones. Either
        // way no event is lost or stored twice (SPEC §6).
        // On PostgreSQL the page is this replica's to store only while it holds the job's lease (LOCKING.md).
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await leases.HoldInTransactionAsync(db, job.Id, cancellationToken);
        var logs = await budgets.ChargeAsync(db, job, response, read: null, cancellationToken);
        JobPage.Apply(db, job, response, lastUpdated, logger);
        await LogEventWriter.AppendAsync(db, job.Id, logs, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        metrics.PageStored(job, response with { JobLogs = logs }, droppedBefore);
    }
}
