using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Processing;

/// <summary>
/// The first step of a pass: jobs waiting in <c>submitted</c> get a runner (and, with replicas, this replica's lease),
/// in batches of up to <see cref="Batch"/> jobs, each batch in one transaction of one conditional update per runner, so a
/// job stopped meanwhile is never sent anywhere. No cap per pass: a burst of thousands is assigned in one pass, as far as
/// the runners' capacities go.
/// </summary>
internal sealed class JobAssignment(
    IServiceScopeFactory scopes,
    RunnerPool runners,
    RunnerCapacities capacities,
    JobLeases leases,
    ILogger logger)
{
    /// <summary>Jobs assigned in one transaction: large enough that 2,000 waiting jobs take two, small enough that the
    /// runners' rows (locked on PostgreSQL until the commit) are not held for long.</summary>
    internal const int Batch = 1000;

    /// <summary>
    /// Gives each waiting job to the least-loaded runner that has room and is not draining, healthy runners first; a job
    /// that asks for resources only to a runner that can give them, and while none that answers can, it waits.
    /// </summary>
    public async Task AssignAsync(CancellationToken cancellationToken)
    {
        // Each batch takes the oldest jobs still waiting, but for those that wait for resources no runner can give now:
        // every batch assigns or sets aside at least one job, so the loop ends.
        var skipped = new HashSet<Guid>();
        while (await AssignBatchAsync(skipped, cancellationToken))
        {
        }
    }

    /// <summary>One batch of the oldest waiting jobs; true when there may be more to assign now (the batch was full and no
    /// runner is at its capacity).</summary>
    private async Task<bool> AssignBatchAsync(HashSet<Guid> skipped, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var query = db.Jobs.Where(j => j.Status == JobStatus.Submitted);
        if (skipped.Count > 0)
        {
            query = query.Where(j => !skipped.Contains(j.Id));
        }

        var waiting = await query
            .OrderBy(j => j.SubmittedAt)
            .Select(j => new { j.Id, j.Spec })
            .Take(Batch)
            .ToListAsync(cancellationToken);
        if (waiting.Count == 0)
        {
            return false;
        }

        // On PostgreSQL the runners' rows stay locked until the batch commits: no other replica fills the same capacity
        // meanwhile, and no runner is removed between its count and a claim (RunnersService.RemoveAsync). On SQLite the
        // transaction makes the batch one commit instead of one per job.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var stored = leases.Enabled
            ? await db.Runners.FromSqlRaw("SELECT * FROM runners ORDER BY name FOR UPDATE").AsNoTracking().ToListAsync(cancellationToken)
            : await db.Runners.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken);
        var local = runners.LocalUrl;
        List<(string Url, int? Capacity)> candidates =
        [
            .. local is null ? [] : new[] { (local, runners.LocalHealth?.MaxJobs) },
            .. stored.Where(r => !r.Draining).Select(r => (r.Url, r.MaxJobs)),
        ];
        var load = await db.Jobs
            .Where(j => j.Runner != null && !j.RunnerReleased && RunnersService.OnRunner.Contains(j.Status))
            .GroupBy(j => j.Runner!)
            .Select(g => new { Runner = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Runner, g => g.Count, cancellationToken);

        var capable = waiting.Any(j => j.Spec.Resources is not null) ? await capacities.CurrentAsync(cancellationToken) : null;
        var chosen = new Dictionary<string, List<Guid>>(StringComparer.Ordinal);
        var full = false;
        foreach (var (jobId, resources) in waiting.Select(j => (j.Id, j.Spec.Resources)))
        {
            // A runner at its capacity (DSTACK_RUNNER_MAX_JOBS) takes nothing more; when every runner is full, the jobs
            // wait in the order they came (the next pass starts again from the oldest).
            var open = candidates.Where(c => c.Capacity is not { } max || load.GetValueOrDefault(c.Url) < max).Select(c => c.Url).ToList();
            if (open.Count == 0)
            {
                logger.LogDebug("Every runner is at its capacity; job {JobId} and those after it wait", jobId);
                full = true;
                break;
            }

            var runner = open
                .Where(r => resources is null || (capable!.TryGetValue(r, out var capacity) && capacity.Refusal(resources) is null))
                .OrderBy(r => runners.IsHealthy(r) ? 0 : 1)
                .ThenBy(r => load.GetValueOrDefault(r))
                .FirstOrDefault();
            if (runner is null)
            {
                logger.LogDebug("Job {JobId} waits for a runner that can give it {Resources}", jobId, resources);
                skipped.Add(jobId);
                continue;
            }

            load[runner] = load.GetValueOrDefault(runner) + 1;
            (chosen.TryGetValue(runner, out var jobs) ? jobs : chosen[runner] = []).Add(jobId);
        }

        // The assigning replica holds the job from the start: no other may claim it between here and its first pass.
        // It holds it for as long as its own replica lease lasts (LOCKING.md).
        var leaseOwner = leases.Enabled ? leases.Replica : null;
        foreach (var (runner, jobIds) in chosen)
        {
            // A conditional update is the claim: a job a user stopped meanwhile is no longer Submitted and is left alone,
            // so a stopped job is never sent to a runner; nor does a job go to a runner drained or removed since it was read.
            var isLocal = runner == local;
            var claimed = await db.Jobs
                .Where(j => jobIds.Contains(j.Id) && j.Status == JobStatus.Submitted)
                .Where(j => isLocal || db.Runners.Any(r => r.Url == runner && !r.Draining))
                .ExecuteUpdateAsync(
                    s => s.SetProperty(j => j.Status, JobStatus.Provisioning)
                        .SetProperty(j => j.Runner, runner)
                        .SetProperty(j => j.EmbeddedRunner, isLocal)
                        .SetProperty(j => j.LeaseOwner, leaseOwner),
                    cancellationToken);
            await leases.OpenAsync(db, jobIds, cancellationToken);
            logger.LogInformation("{Claimed} of {Jobs} jobs assigned to runner {Runner}", claimed, jobIds.Count, runner);
        }

        await transaction.CommitAsync(cancellationToken);
        return !full && waiting.Count == Batch;
    }
}
