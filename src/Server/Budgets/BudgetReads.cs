using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Budgets;

/// <summary>A project's budget as its members read it: the <c>log_budget</c> block and the project's events.</summary>
internal static class BudgetReads
{
    /// <summary>Events shown with a project, newest first.</summary>
    public const int ShownEvents = 50;

    /// <summary>The project's budget and its current hour; null when it has no budget.</summary>
    public static async Task<ProjectBudgetStatus?> StatusAsync(ServerDbContext db, Guid projectId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var project = await db.Projects.AsNoTracking().Where(p => p.Id == projectId)
            .Select(p => new { p.LogBudgetHour, p.LogBudgetAction }).FirstAsync(cancellationToken);
        if (project.LogBudgetHour is not > 0)
        {
            return null;
        }

        var hourStart = ProjectBudgets.HourOf(now);
        var hour = await db.ProjectBudgetHours.AsNoTracking()
            .Where(h => h.ProjectId == projectId && h.HourStart == hourStart).FirstOrDefaultAsync(cancellationToken);
        return new ProjectBudgetStatus(
            project.LogBudgetHour, project.LogBudgetAction, hour?.UsedBytes ?? 0, hourStart, hourStart.AddHours(1), hour?.DroppedBytes ?? 0,
            hour?.ExceededAt, await ReportAsync(db, projectId, cancellationToken));
    }

    /// <summary>The evidence of the project's last hour that crossed its budget (the retention keeps that hour's row); null if none did.</summary>
    public static async Task<ProjectBudgetReport?> ReportAsync(ServerDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var crossed = await db.ProjectBudgetHours.AsNoTracking()
            .Where(h => h.ProjectId == projectId && h.ExceededAt != null)
            .OrderByDescending(h => h.HourStart).FirstOrDefaultAsync(cancellationToken);
        if (crossed is null)
        {
            return null;
        }

        var row = await db.ProjectBudgetEvidence.AsNoTracking()
            .FirstOrDefaultAsync(e => e.ProjectId == projectId && e.HourStart == crossed.HourStart, cancellationToken);
        var evidence = row is null ? new HourEvidence() : HourEvidence.Read(row);
        var ids = evidence.Runs().ToList();
        var names = await db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, r => r.RunName, cancellationToken);
        return evidence.Report(crossed.HourStart, crossed.UsedBytes, crossed.DroppedBytes, names);
    }

    public static async Task<IReadOnlyList<ProjectEvent>> EventsAsync(ServerDbContext db, Guid projectId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.ProjectEvents.AsNoTracking()
            .Where(e => e.ProjectId == projectId)
            .OrderByDescending(e => e.Timestamp).ThenByDescending(e => e.Id)
            .Take(ShownEvents)
            .Select(e => new ProjectEvent(e.Timestamp, e.Type, e.Message))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Null when <paramref name="bytes"/> is a budget (0 or more; 0: none), else the 400 naming the field.</summary>
    public static Runs.RunProblem? Check(long? bytes) =>
        bytes is not < 0
            ? null
            : Runs.RunProblem.Invalid(new Dictionary<string, string[]>(StringComparer.Ordinal)
            {
                ["log_budget_hour"] = [$"log_budget_hour must be a whole number of bytes, 0 or more (0: no budget); got {bytes}."],
            });
}
