using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Retention;

/// <summary>
/// <c>DSTACK_SERVER_LOG_RETENTION</c>: deletes the log events of jobs that finished longer ago than the retention (the runs,
/// their rows and events stay). Deletes go in batches of <see cref="BatchSize"/> events, each its own short transaction with a
/// pause after it, so the job processor's ingest never waits behind a long delete (SQLite has one writer at a time).
/// </summary>
internal sealed class LogRetention(IServiceScopeFactory scopes, ServerSettings settings, TimeProvider time, ILogger<LogRetention> logger)
{
    /// <summary>Events per delete: a few milliseconds of writing, even with 64 KiB pages full of log text.</summary>
    public const int BatchSize = 500;

    /// <summary>Jobs looked at per query.</summary>
    private const int JobBatch = 100;

    /// <summary>Between two deletes: room for the processor's next commit.</summary>
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);

    /// <summary>Jobs that finished before this were swept already by this process: later sweeps start here.</summary>
    private DateTimeOffset _sweptUpTo = DateTimeOffset.MinValue;

    /// <summary>One sweep: every expired job's events, in batches; returns the number of events deleted.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        if (settings.LogRetention is not { } retention)
        {
            return 0;
        }

        var cutoff = time.GetUtcNow() - retention;
        long deleted = 0;
        var (from, after) = (_sweptUpTo, Guid.Empty);
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();

            // Released jobs only: a job its runner still holds (reconciliation) may still bring lines.
            var jobs = await db.Jobs.AsNoTracking()
                .Where(j => j.FinishedAt != null && j.FinishedAt >= from && j.FinishedAt < cutoff && j.RunnerReleased)
                .Where(j => j.FinishedAt > from || j.Id.CompareTo(after) > 0)
                .OrderBy(j => j.FinishedAt).ThenBy(j => j.Id)
                .Select(j => new { j.Id, FinishedAt = j.FinishedAt!.Value })
                .Take(JobBatch)
                .ToListAsync(cancellationToken);
            foreach (var job in jobs)
            {
                deleted += await DeleteEventsAsync(db, job.Id, cancellationToken);
            }

            if (jobs.Count < JobBatch)
            {
                break;
            }

            // Keyset on the (finished_at, id) order: the next batch starts after the last job of this one.
            (from, after) = (jobs[^1].FinishedAt, jobs[^1].Id);
        }

        _sweptUpTo = cutoff;
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} log events of runs finished before {Cutoff} ({Variable})", deleted, cutoff, RetentionSetting.Variable);
        }

        return deleted;
    }

    private static async Task<long> DeleteEventsAsync(ServerDbContext db, Guid jobId, CancellationToken cancellationToken)
    {
        long deleted = 0;
        while (true)
        {
            // DELETE ... WHERE id IN (SELECT id ... LIMIT n): a range of the (job_id, timestamp) index, one short transaction.
            var count = await db.LogEvents.Where(e => e.JobId == jobId).OrderBy(e => e.Id).Take(BatchSize).ExecuteDeleteAsync(cancellationToken);
            deleted += count;
            if (count < BatchSize)
            {
                // A job's folds go with its lines (at most a few hundred marks: one statement).
                await db.LogSectionMarks.Where(e => e.JobId == jobId).ExecuteDeleteAsync(cancellationToken);
                return deleted;
            }

            // Real time on purpose: this yields the write lock to the processor for a moment, it measures nothing.
            await Task.Delay(Pause, TimeProvider.System, cancellationToken);
        }
    }
}

/// <summary>Sweeps once a minute (and at start) while a retention is set; a storage fault waits for the next minute.</summary>
internal sealed class LogRetentionService(LogRetention retention, ServerSettings settings, TimeProvider time, IServiceProvider services, ILogger<LogRetentionService> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.LogRetention is null)
        {
            return;
        }

        await PeriodicSweep.RunAsync(async token => await retention.SweepAsync(token), Interval, "Deleting expired logs", services, time, logger, stoppingToken);
    }
}
