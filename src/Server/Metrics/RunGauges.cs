using System.Diagnostics.Metrics;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Metrics;

/// <summary>
/// The gauges that come from the database, so that every replica and a restarted server report the same: runs by
/// status (one grouped count) and the active jobs' bytes this hour and quota, labelled with the run's name. Both
/// queries run at most once per <see cref="MaxAge"/>, whatever the number of scrapers, and hold only a row per status
/// and per active job: a run that has ended carries no label, so the series stay as few as the jobs running.
/// </summary>
internal sealed class RunGauges
{
    /// <summary>A scrape asks the three gauges in a row, and several Prometheus servers may scrape one replica.</summary>
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(1);

    private static readonly JobStatus[] Active = [JobStatus.Provisioning, JobStatus.Running, JobStatus.Terminating];

    private readonly IServiceScopeFactory _scopes;
    private readonly TimeProvider _time;
    private readonly ILogger<RunGauges> _logger;
    private readonly Lock _lock = new();
    private Snapshot _snapshot = new([], []);
    private long _takenAt;
    private bool _taken;

    public RunGauges(IMeterFactory meters, IServiceScopeFactory scopes, TimeProvider time, ILogger<RunGauges> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _scopes = scopes;
        _time = time;
        _logger = logger;
        var meter = meters.Create(ServerMetrics.MeterName);
        meter.CreateObservableGauge("logquota_runs", () => Current().Runs,
            description: "Runs by status (submitted, provisioning, running, terminating, terminated, aborted, failed, done), from the database.");
        meter.CreateObservableGauge("logquota_job_log_bytes_hour", () => Current().BytesHour,
            description: "Stored log bytes of an active job in its current hourly bucket; the series ends with the job.");
        meter.CreateObservableGauge("logquota_job_log_quota_bytes", () => Current().Quota,
            description: "Hourly log quota of an active job (none for an unlimited one); the series ends with the job.");
    }

    private Snapshot Current()
    {
        lock (_lock)
        {
            if (!_taken || _time.GetElapsedTime(_takenAt) >= MaxAge)
            {
                _snapshot = Take() ?? _snapshot;
                _takenAt = _time.GetTimestamp();
                _taken = true;
            }

            return _snapshot;
        }
    }

    private Snapshot? Take()
    {
        try
        {
            using var scope = _scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            var counts = db.Jobs.AsNoTracking().GroupBy(j => j.Status).Select(g => new { Status = g.Key, Count = g.Count() })
                .ToDictionary(g => g.Status, g => g.Count);
            var active = db.Jobs.AsNoTracking().Where(j => Active.Contains(j.Status))
                .Join(db.Projects, j => j.ProjectId, p => p.Id, (j, p) => new { j.Run.RunName, Project = p.Name, j.LogQuota, j.Spec })
                .ToList();

            var runs = Enum.GetValues<JobStatus>()
                .Select(s => new Measurement<long>(counts.GetValueOrDefault(s), Label("status", WireNames.Of(s))))
                .ToList();
            var bytes = active.Select(j => new Measurement<long>(j.LogQuota?.UsedBytesHour ?? 0, Label("run_name", j.RunName), Label("project", j.Project))).ToList();
            var quota = active
                .Where(j => (j.LogQuota?.Limit ?? j.Spec.LogQuotaHour) is not null)
                .Select(j => new Measurement<long>((j.LogQuota?.Limit ?? j.Spec.LogQuotaHour)!.Value, Label("run_name", j.RunName), Label("project", j.Project)))
                .ToList();
            return new Snapshot(runs, bytes, quota);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A locked or failing database: the scrape answers the last snapshot; the processor reports the fault itself.
            _logger.LogWarning("The run gauges could not be read from the database: {Error}", e.Message);
            return null;
        }
    }

    private static KeyValuePair<string, object?> Label(string name, string value) => new(name, value);

    private sealed record Snapshot(List<Measurement<long>> Runs, List<Measurement<long>> BytesHour, List<Measurement<long>> Quota)
    {
        public Snapshot(List<Measurement<long>> runs, List<Measurement<long>> none)
            : this(runs, none, none)
        {
        }
    }
}
