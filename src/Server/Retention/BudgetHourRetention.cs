using LogQuota.Server.Budgets;
using LogQuota.Server.Data;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Retention;

/// <summary>
/// Deletes the hours of projects' log budgets that nothing reports any more, with their evidence: every hour row but
/// the current hour (being charged) and each project's last hour that crossed its budget (its <c>log_budget.report</c>).
/// One short delete; an hour row a replica still charges at the turn of the hour is locked by that charge, so the
/// delete waits for its commit (PostgreSQL) or for the database's one writer (SQLite).
/// </summary>
internal sealed class BudgetHourRetention(IServiceScopeFactory scopes, TimeProvider time, ILogger<BudgetHourRetention> logger)
{
    /// <summary>One sweep; returns the number of hour rows deleted.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var current = ProjectBudgets.HourOf(time.GetUtcNow());
        var deleted = await db.ProjectBudgetHours
            .Where(h => h.HourStart < current)
            .Where(h => h.ExceededAt == null || db.ProjectBudgetHours.Any(later =>
                later.ProjectId == h.ProjectId && later.ExceededAt != null && later.HourStart > h.HourStart))
            .ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} past hours of projects' log budgets that no report shows", deleted);
        }

        return deleted;
    }
}

/// <summary>Sweeps at start and every ten minutes: a past hour nothing reports is deleted at most ten minutes after the hour ends.</summary>
internal sealed class BudgetHourRetentionService(BudgetHourRetention retention, TimeProvider time, IServiceProvider services, ILogger<BudgetHourRetentionService> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await PeriodicSweep.RunAsync(async token => await retention.SweepAsync(token), Interval, "Deleting past hours of log budgets", services, time, logger, stoppingToken);
    }
}
