using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Processing;

/// <summary>
/// The first step of a pass: jobs waiting in <c>submitted</c> get a runner (and, with replicas, this replica's lease)
/// by one conditional update each, so a job stopped meanwhile is never sent anywhere.
/// </summary>
internal sealed class JobAssignment(
    IServiceScopeFactory scopes,
    RunnerPool runners,
    RunnerCapacities capacities,
    JobLeases leases,
    ILogger logger)
{
    /// <summary>
    /// Gives each waiting job to the least-loaded runner that has room and is not draining, healthy runners first; a job
    /// that asks for resources only to a runner that can give them, and while none that answers can, it waits.
    /// </summary>
    public async Task AssignAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        // With replicas, each takes a share per pass, so that a burst of submissions spreads over them.
        var waiting = await db.Jobs
            .Where(j => j.Status == JobStatus.Submitted)
            .OrderBy(j => j.SubmittedAt)
            .Select(j => new { j.Id, j.Spec })
            .Take(leases.Enabled ? JobProcessor.MaxParallelJobs : int.MaxValue)
            .ToListAsync(cancellationToken);
        if (waiting.Count == 0)
        {
            return;
        }

        // On PostgreSQL the runners' rows stay locked until the last claim commits: no other replica fills the same
        // capacity meanwhile, and no runner is removed between its count and a claim (RunnersService.RemoveAsync).
        await using var transaction = leases.Enabled ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
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

        // The assigning replica holds the job from the start: no other may claim it between here and its first pass.
        var leaseOwner = leases.Enabled ? leases.Replica : null;
        DateTimeOffset? leaseExpiresAt = leases.Enabled
            ? (await JobLeases.DatabaseNowAsync(db, cancellationToken)).AddMilliseconds(leases.LeaseMilliseconds)
            : null;

        var capable = waiting.Any(j => j.Spec.Resources is not null) ? await capacities.CurrentAsync(cancellationToken) : null;
        foreach (var (jobId, resources) in waiting.Select(j => (j.Id, j.Spec.Resources)))
        {
            // A runner at its capacity (DSTACK_RUNNER_MAX_JOBS) takes nothing more; when every runner is full, the jobs
            // wait in the order they came (the next pass starts again from the oldest).
            var open = candidates.Where(c => c.Capacity is not { } max || load.GetValueOrDefault(c.Url) < max).Select(c => c.Url).ToList();
            if (open.Count == 0)
            {
                logger.LogDebug("Every runner is at its capacity; job {JobId} and those after it wait", jobId);
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
                continue;
            }

            // A conditional update is the claim: if a user stopped the job meanwhile, its status is no longer
            // Submitted and nothing changes, so a stopped job is never sent to a runner; nor does a job go to a runner
            // drained or removed since it was read.
            var isLocal = runner == local;
            var claimed = await db.Jobs
                .Where(j => j.Id == jobId && j.Status == JobStatus.Submitted)
                .Where(j => isLocal || db.Runners.Any(r => r.Url == runner && !r.Draining))
                .ExecuteUpdateAsync(
                    s => s.SetProperty(j => j.Status, JobStatus.Provisioning)
                        .SetProperty(j => j.Runner, runner)
                        .SetProperty(j => j.EmbeddedRunner, isLocal)
                        .SetProperty(j => j.LeaseOwner, leaseOwner)
                        .SetProperty(j => j.LeaseExpiresAt, leaseExpiresAt),
                    cancellationToken);
            if (claimed == 1)
            {
                load[runner] = load.GetValueOrDefault(runner) + 1;
                logger.LogInformation("Job {JobId} assigned to runner {Runner}", jobId, runner);
            }
        }

        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }
}
