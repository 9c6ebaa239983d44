using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace LogQuota.Server.Processing;

/// <summary>
/// Stores one answer of a runner's stream in one transaction: every job's events, states, quota blocks and live regions,
/// and the runner's cursor, which moves only from the cursor the answer was asked after (a concurrency token). Killed
/// before the commit, the server asks again from the old cursor and the runner answers the same events; after it, it asks
/// from the new one. Each job's part is cut to what follows the job's stored position, so an answer from an earlier
/// position (a runner that started its sequence afresh) repeats nothing either.
/// </summary>
/// <remarks>
/// The jobs are read untracked. On SQLite a job whose part is plain (lines, its position, quota block and live region;
/// no state, event, section mark or project budget) has those columns written by one prepared statement for all such
/// jobs (<see cref="JobRowWriter"/>), fenced by its stored position as EF's concurrency token fences it, and its
/// followers are woken with the commit; any other job is attached and goes through the budget's charge and EF. Through
/// the change tracker a plain line cost the server about twice the CPU (bench/Server.Bench --stream).
/// </remarks>
internal sealed class RunnerStreamStore(
    StreamLeases leases, ServerMetrics metrics, Budgets.ProjectBudgets budgets, Logs.LogFeedInterceptor feed, TimeProvider time, ILogger<RunnerStreamStore> logger)
{
    /// <exception cref="DbUpdateConcurrencyException">Another writer moved the cursor: nothing was stored.</exception>
    /// <exception cref="LeaseLostException">Another replica reads this runner's stream now: nothing was stored.</exception>
    public async Task StoreAsync(ServerDbContext db, StreamedRunner streamed, string? after, StreamResponse answer, CancellationToken cancellationToken)
    {
        var runner = streamed.Url;
        db.ChangeTracker.Clear();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await leases.RenewInTransactionAsync(db, streamed.RunnerId, cancellationToken);
        var stream = await db.RunnerStreams.SingleOrDefaultAsync(r => r.RunnerId == streamed.RunnerId, cancellationToken);
        if (stream is null)
        {
            stream = new RunnerStreamEntity { RunnerId = streamed.RunnerId };
            db.RunnerStreams.Add(stream);
        }

        if (stream.Cursor != after)
        {
            throw new DbUpdateConcurrencyException($"The cursor of runner {runner} moved from {after} to {stream.Cursor} meanwhile.");
        }

        var ids = answer.Jobs.Select(j => j.JobId).ToList();
        var jobs = ids.Count == 0
            ? []
            : await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id) && j.Runner == runner && !j.RunnerReleased).ToDictionaryAsync(j => j.Id, cancellationToken);
        var sqlite = db.Database.CurrentTransaction?.GetDbTransaction() as Microsoft.Data.Sqlite.SqliteTransaction;
        var plain = new List<(JobEntity Job, long Before)>();
        var projects = await budgets.LockAsync(db, jobs.Values.Select(j => j.ProjectId), cancellationToken);
        var logs = new List<(Guid JobId, IReadOnlyList<LogEvent> Logs)>();
        var stored = new List<(JobEntity Job, PullResponse Page, long DroppedBefore)>();
        foreach (var entry in answer.Jobs)
        {
            // A job the server does not hold on this runner (deleted, released, or another server's) is not ours to store.
            if (!jobs.TryGetValue(entry.JobId, out var job))
            {
                continue;
            }

            var page = JobPage.After(job, entry.Page);
            var lastUpdated = Math.Max(job.RunnerTimestamp, page.LastUpdated);
            if (!JobPage.HasNews(job, page, lastUpdated))
            {
                continue;
            }

            var droppedBefore = job.LogQuota?.DroppedBytes ?? 0;
            if (sqlite is not null && IsPlain(job, page, projects))
            {
                var before = job.RunnerTimestamp;
                JobPage.Apply(db, job, page, lastUpdated, logger);
                plain.Add((job, before));
                stored.Add((job, page, droppedBefore));
                logs.Add((job.Id, page.JobLogs));
                continue;
            }

            db.Jobs.Attach(job);
            var charged = await budgets.ChargeAsync(db, job, page, projects, cancellationToken);
            JobPage.Apply(db, job, page, lastUpdated, logger);
            stored.Add((job, page with { JobLogs = charged }, droppedBefore));
            logs.Add((job.Id, charged));
        }

        var lost = answer.Held is { } held ? await EndLostAsync(db, runner, held, cancellationToken) : [];

        stream.Cursor = answer.Cursor;
        stream.FailingSince = null;
        await LogEventWriter.AppendAsync(db, logs, cancellationToken);
        if (plain.Count > 0)
        {
            JobRowWriter.Update(sqlite!, plain);
            foreach (var (job, _) in plain)
            {
                feed.Changed(db, job.RunId);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        foreach (var (job, page, droppedBefore) in stored)
        {
            metrics.PageStored(job, page, droppedBefore);
            metrics.Lag.Streamed(job.Id, runner, job.RunnerTimestamp);
        }

        metrics.Lag.Forget(lost);
        if (!answer.HasMore)
        {
            metrics.Lag.StreamCaughtUp(runner);
        }
    }

    /// <summary>Whether storing <paramref name="page"/> changes only <paramref name="job"/>'s own row and log: no state, event
    /// or section mark, and no project budget to charge (none set, and the job not dropping under an earlier one).</summary>
    private static bool IsPlain(JobEntity job, PullResponse page, IReadOnlyDictionary<Guid, Budgets.ProjectBudget> projects) =>
        JobPage.IsPlain(page) && job.BudgetDroppingHour is null
        && (!projects.TryGetValue(job.ProjectId, out var project) || project.LogBudgetHour is not > 0);

    /// <summary>
    /// The runner started its sequence afresh and named every job it holds: a job it ran (the server saw it running) and
    /// does not hold any more was lost with an earlier process of that runner, whose successor killed what was left of it.
    /// Waiting for the unreachable timeout would only delay the same verdict. A job still being submitted is left to its
    /// submit, which the runner takes as new.
    /// </summary>
    /// <returns>The jobs released here.</returns>
    private async Task<List<Guid>> EndLostAsync(ServerDbContext db, string runner, IReadOnlyList<Guid> held, CancellationToken cancellationToken)
    {
        var heldSet = held.ToHashSet();
        var candidates = await db.Jobs
            .Where(j => j.Runner == runner && !j.RunnerReleased && (j.Status == JobStatus.Running || j.Status == JobStatus.Terminating))
            .ToListAsync(cancellationToken);
        var lost = candidates.Where(j => !heldSet.Contains(j.Id)).ToList();
        foreach (var job in lost)
        {
            var message = $"Runner {runner} no longer knows job {job.Id}: it was restarted, and the job ended with its previous process";
            if (job.TryEnd(JobEnd.ExecutorError(message), time.GetUtcNow()))
            {
                logger.LogError("Job {JobId} failed: runner {Runner} was restarted and no longer holds it", job.Id, runner);
            }

            job.Release();
        }

        return [.. lost.Select(j => j.Id)];
    }
}
