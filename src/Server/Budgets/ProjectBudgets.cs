using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Server.Processing;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Budgets;

/// <summary>A project's log budget as a transaction read it: bytes per hour (none when null or 0) and the action at the crossing.</summary>
internal sealed record ProjectBudget(Guid Id, string Name, long? LogBudgetHour, LogQuotaAction Action);

/// <summary>
/// The one place a pulled page is charged against its project's hourly log budget, in the transaction that stores the
/// page: the hour's row is locked (<c>FOR UPDATE</c> on PostgreSQL; SQLite's transactions take its one write lock), its
/// count moves with the page, and what does not fit is never stored. Every replica, and either pull (per job or the
/// runner's stream), charges here, so the hour's total is exact whichever replica stores which job.
/// </summary>
internal sealed class ProjectBudgets(ServerSettings settings, BudgetMetrics metrics, TimeProvider time, ILogger<ProjectBudgets> logger)
{
    /// <summary>
    /// Whether each charge keeps the hour's evidence (<see cref="HourEvidence"/>); always, but in bench/Server.Bench's
    /// baseline, which measures the charge without it.
    /// </summary>
    internal bool KeepsEvidence { get; init; } = true;

    /// <summary>A project's budget as read from its row (a query's projection).</summary>
    private static readonly System.Linq.Expressions.Expression<Func<ProjectEntity, ProjectBudget>> BudgetOf =
        p => new ProjectBudget(p.Id, p.Name, p.LogBudgetHour, p.LogBudgetAction);

    /// <summary>The start of the hour <paramref name="now"/> is in (UTC): a project's hours are the server clock's.</summary>
    public static DateTimeOffset HourOf(DateTimeOffset now) =>
        new(now.UtcTicks - now.UtcTicks % TimeSpan.TicksPerHour, TimeSpan.Zero);

    /// <summary>
    /// Reads the budgets of <paramref name="projectIds"/> once and locks the current hour of each budgeted one, in one
    /// order, so that transactions storing jobs of several projects (a runner's stream) never wait for each other in a
    /// cycle. The answer is passed to each <see cref="ChargeAsync"/> of the transaction, which then reads no project.
    /// </summary>
    public async Task<IReadOnlyDictionary<Guid, ProjectBudget>> LockAsync(ServerDbContext db, IEnumerable<Guid> projectIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var ids = projectIds.Distinct().ToList();
        if (ids.Count == 0)
        {
            return new Dictionary<Guid, ProjectBudget>();
        }

        var read = await db.Projects.AsNoTracking().Where(p => ids.Contains(p.Id))
            .Select(BudgetOf).ToDictionaryAsync(p => p.Id, cancellationToken);
        var hour = HourOf(time.GetUtcNow());
        foreach (var id in read.Values.Where(p => p.LogBudgetHour > 0).Select(p => p.Id).Order())
        {
            await HourAsync(db, id, hour, cancellationToken);
        }

        return read;
    }

    /// <summary>
    /// Charges the page <paramref name="page"/> of <paramref name="job"/> (before its states are applied) and answers the log
    /// events to store: the page's, cut where the budget ends, with the budget's markers. Run and project events and the
    /// job's stop are added to <paramref name="db"/>, to commit with the page. <paramref name="read"/> is what
    /// <see cref="LockAsync"/> read in this transaction, if it ran; else the job's project is read here.
    /// </summary>
    public async Task<IReadOnlyList<LogEvent>> ChargeAsync(
        ServerDbContext db, JobEntity job, PullResponse page, IReadOnlyDictionary<Guid, ProjectBudget>? read, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(page);
        long? endedAt = page.JobStates.Where(s => s.State is JobState.Done or JobState.Failed or JobState.Terminated)
            .Select(s => (long?)s.Timestamp).Max();
        if (!page.JobLogs.Any(l => l.LogSource == LogSource.Stdout) && (endedAt is null || job.BudgetDroppedBytes == 0))
        {
            return page.JobLogs;
        }

        var project = read is not null && read.TryGetValue(job.ProjectId, out var known) ? known
            : await db.Projects.AsNoTracking().Where(p => p.Id == job.ProjectId)
                .Select(BudgetOf).FirstAsync(cancellationToken);
        if (project.LogBudgetHour is not > 0)
        {
            // No budget (or no longer one): nothing is dropped, and a job dropping under an earlier one stores again.
            job.BudgetDroppingHour = null;
            return page.JobLogs;
        }

        var now = time.GetUtcNow();
        var hour = await HourAsync(db, job.ProjectId, HourOf(now), cancellationToken);
        var droppedBefore = hour.DroppedBytes;
        var rule = new BudgetRule(project.Name, project.LogBudgetHour.Value, project.Action, settings.LogQuotaWarnAt);
        var evidenceRow = KeepsEvidence ? await EvidenceAsync(db, hour, cancellationToken) : null;
        var evidence = evidenceRow is null ? null : HourEvidence.Read(evidenceRow);
        var outcome = BudgetCharge.Apply(rule, hour, job, page.JobLogs, endedAt, now, evidence);
        if (evidenceRow is not null)
        {
            evidence!.WriteTo(evidenceRow);
        }
        foreach (var e in outcome.Events)
        {
            db.RunEvents.Add(new RunEventEntity { RunId = job.RunId, Timestamp = now, Type = e.Type, Message = e.Message });
            if (e.ProjectWide)
            {
                var runName = await db.Runs.AsNoTracking().Where(r => r.Id == job.RunId).Select(r => r.RunName).FirstAsync(cancellationToken);
                db.ProjectEvents.Add(new ProjectEventEntity { ProjectId = job.ProjectId, Timestamp = now, Type = e.Type, Message = $"{e.Message} (run {runName})" });
            }
        }

        if (outcome.Kill)
        {
            // The processor sends the stop on this job's next pass. Whatever final state the runner then reports (or
            // reports in this very page), the job ends failed for the budget (JobPage).
            job.StopRequested = true;
            job.StopReason = TerminationReason.LogBudgetExceeded;
            logger.LogWarning("Job {JobId} crossed the hourly log budget of project {Project} ({Budget} bytes); it is being killed", job.Id, project.Name, rule.Limit);
        }

        metrics.Charged(project.Name, rule.Action, outcome.Events, hour.DroppedBytes - droppedBefore);
        return outcome.Logs;
    }

    /// <summary>
    /// The project's row for <paramref name="hourStart"/>, created if missing, locked until the transaction ends, and read
    /// afresh under the lock: a row this context tracks from an earlier transaction (an earlier page of the pass) may be stale.
    /// </summary>
    private async Task<ProjectBudgetHourEntity> HourAsync(ServerDbContext db, Guid projectId, DateTimeOffset hourStart, CancellationToken cancellationToken)
    {
        var tracked = db.ChangeTracker.Entries<ProjectBudgetHourEntity>()
            .FirstOrDefault(e => e.Entity.ProjectId == projectId && e.Entity.HourStart == hourStart);
        if (tracked is { State: EntityState.Added or EntityState.Modified })
        {
            // Changed in this transaction, which holds the row's lock: it is the truth.
            return tracked.Entity;
        }

        var key = hourStart.ToUnixTimeMilliseconds();
        if (settings.DatabaseProvider == DatabaseProvider.Postgres)
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"INSERT INTO project_budget_hours (project_id, hour_start, used_bytes, dropped_bytes, warned_percent) VALUES ({projectId}, {key}, 0, 0, 0) ON CONFLICT DO NOTHING",
                cancellationToken);
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"SELECT 1 FROM project_budget_hours WHERE project_id = {projectId} AND hour_start = {key} FOR UPDATE", cancellationToken);
        }

        if (tracked is not null)
        {
            await tracked.ReloadAsync(cancellationToken);
            if (tracked.State != EntityState.Detached)
            {
                return tracked.Entity;
            }
        }

        var hour = await db.ProjectBudgetHours.FirstOrDefaultAsync(h => h.ProjectId == projectId && h.HourStart == hourStart, cancellationToken);
        if (hour is null)
        {
            // SQLite: the page's transaction holds the database's one write lock (BEGIN IMMEDIATE), so no one adds it meanwhile.
            hour = new ProjectBudgetHourEntity { ProjectId = projectId, HourStart = hourStart };
            db.ProjectBudgetHours.Add(hour);
        }

        return hour;
    }

    /// <summary>
    /// The evidence row of <paramref name="hour"/>, whose lock the transaction holds (so no replica reads or writes it
    /// meanwhile), created if missing; read afresh unless this transaction changed it already.
    /// </summary>
    private static async Task<ProjectBudgetEvidenceEntity> EvidenceAsync(ServerDbContext db, ProjectBudgetHourEntity hour, CancellationToken cancellationToken)
    {
        var tracked = db.ChangeTracker.Entries<ProjectBudgetEvidenceEntity>()
            .FirstOrDefault(e => e.Entity.ProjectId == hour.ProjectId && e.Entity.HourStart == hour.HourStart);
        if (tracked is { State: EntityState.Added or EntityState.Modified })
        {
            return tracked.Entity;
        }

        if (tracked is not null)
        {
            tracked.State = EntityState.Detached;
        }

        var row = await db.ProjectBudgetEvidence.FirstOrDefaultAsync(e => e.ProjectId == hour.ProjectId && e.HourStart == hour.HourStart, cancellationToken);
        if (row is null)
        {
            row = new ProjectBudgetEvidenceEntity { ProjectId = hour.ProjectId, HourStart = hour.HourStart };
            db.ProjectBudgetEvidence.Add(row);
        }

        return row;
    }
}
