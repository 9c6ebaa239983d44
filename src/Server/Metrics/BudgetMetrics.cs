using System.Diagnostics.Metrics;
using LogQuota.Server.Budgets;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Metrics;

/// <summary>
/// The projects' log budgets (docs/metrics.md), labelled <c>project</c>: counters of what this process committed
/// (warnings, crossings by action, bytes dropped), and gauges of each budgeted project's hour read from the database (at
/// most once a second), so every replica reports the same hour.
/// </summary>
internal sealed class BudgetMetrics
{
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private readonly Counter<long> _warnings;
    private readonly Counter<long> _exceeded;
    private readonly Counter<long> _dropped;
    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<BudgetMetrics> _logger;
    private readonly Lock _lock = new();
    private (List<Measurement<long>> Used, List<Measurement<long>> Limit) _snapshot = ([], []);
    private long? _takenAt;

    public BudgetMetrics(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider time, ILogger<BudgetMetrics> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _scopes = scopes;
        _time = time;
        _logger = logger;
        var meter = meters.Create(ServerMetrics.MeterName);
        _warnings = meter.CreateCounter<long>("logquota_log_budget_warnings_total",
            description: "Warnings of a project's hourly log budget (DSTACK_SERVER_LOG_QUOTA_WARN_AT), by project.");
        _exceeded = meter.CreateCounter<long>("logquota_log_budget_exceeded_total",
            description: "Hours that crossed their project's log budget, by project and action.");
        _dropped = meter.CreateCounter<long>("logquota_log_budget_dropped_bytes_total",
            description: "Job output the server did not store because of its project's log budget, by project.");
        meter.CreateObservableGauge("logquota_project_log_bytes_hour", () => Current().Used,
            description: "Stored job output of a budgeted project in the current hour (server clock), from the database.");
        meter.CreateObservableGauge("logquota_project_log_budget_bytes", () => Current().Limit,
            description: "Hourly log budget of a project that has one.");
    }

    /// <summary>A charged page has been added to the transaction; counted when it commits with it (the caller's next step).</summary>
    public void Charged(string project, LogQuotaAction action, IReadOnlyList<BudgetEvent> events, long dropped)
    {
        ArgumentNullException.ThrowIfNull(events);
        var label = new KeyValuePair<string, object?>("project", project);
        foreach (var e in events.Where(e => e.ProjectWide))
        {
            if (e.Type == BudgetEventTypes.LogBudgetWarning)
            {
                _warnings.Add(1, label);
            }
            else if (e.Type == BudgetEventTypes.LogBudgetExceeded)
            {
                _exceeded.Add(1, label, new("action", WireNames.Of(action)));
            }
        }

        if (dropped > 0)
        {
            _dropped.Add(dropped, label);
        }
    }

    private (List<Measurement<long>> Used, List<Measurement<long>> Limit) Current()
    {
        lock (_lock)
        {
            if (_takenAt is not { } taken || _time.GetElapsedTime(taken) >= MaxAge)
            {
                _snapshot = Take() ?? _snapshot;
                _takenAt = _time.GetTimestamp();
            }

            return _snapshot;
        }
    }

    private (List<Measurement<long>>, List<Measurement<long>>)? Take()
    {
        try
        {
            using var scope = _scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            var hour = ProjectBudgets.HourOf(_time.GetUtcNow());
            var rows = db.Projects.AsNoTracking().Where(p => p.LogBudgetHour > 0)
                .Select(p => new
                {
                    p.Name,
                    Limit = p.LogBudgetHour!.Value,
                    Used = db.ProjectBudgetHours.Where(h => h.ProjectId == p.Id && h.HourStart == hour).Select(h => h.UsedBytes).FirstOrDefault(),
                })
                .ToList();
            return ([.. rows.Select(r => new Measurement<long>(r.Used, new KeyValuePair<string, object?>("project", r.Name)))],
                [.. rows.Select(r => new Measurement<long>(r.Limit, new KeyValuePair<string, object?>("project", r.Name)))]);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _logger.LogWarning("The budget gauges could not be read from the database: {Error}", e.Message);
            return null;
        }
    }
}
