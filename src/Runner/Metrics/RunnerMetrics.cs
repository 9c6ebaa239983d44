using System.Diagnostics.Metrics;
using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Metrics;

/// <summary>
/// The runner's instruments (docs/metrics.md). Counters are added to on the job's read path; with no listener (metrics
/// off) an add is a check of one flag. Nothing here carries a job's name or id: the runner's series are few and fixed.
/// </summary>
public sealed class RunnerMetrics
{
    /// <summary>The meter's name, for the exporter.</summary>
    public const string MeterName = "LogQuota.Runner";

    private static readonly KeyValuePair<string, object?> Tty = new("mode", "tty");
    private static readonly KeyValuePair<string, object?> Pipe = new("mode", "pipe");

    private readonly Counter<long> _read;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _kills;
    private readonly Histogram<double> _killSeconds;
    private JobRegistry? _registry;

    /// <param name="meters">The container's meter factory (the embedding server's, for a runner in its process).</param>
    public RunnerMetrics(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        _read = meter.CreateCounter<long>("logquota_runner_log_bytes_read_total",
            description: "Bytes read from jobs' terminals (mode tty) or pipes (mode pipe), escape sequences included.");
        _stored = meter.CreateCounter<long>("logquota_runner_log_bytes_stored_total",
            description: "Bytes written to the jobs' logs (their spools) after terminal processing and the quota, markers included.");
        _kills = meter.CreateCounter<long>("logquota_runner_quota_kills_total",
            description: "Jobs killed because their stored log crossed the hourly quota (action kill).");

        // A quota kill takes 1-10 ms on a healthy host (docs/benchmarks.md); the goal is p99 <= 50 ms.
        _killSeconds = meter.CreateHistogram<double>("logquota_runner_quota_kill_seconds", unit: "s",
            description: "From the read that crossed the quota to every process of the job gone (kills without a grace).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1] });
        // Every series exists from the start at 0, so that increase() sees the first kill of a runner process.
        _kills.Add(0);
        foreach (var mode in new[] { Tty, Pipe })
        {
            _read.Add(0, mode);
            _stored.Add(0, mode);
        }

        meter.CreateObservableGauge("logquota_runner_active_jobs", ActiveJobs,
            description: "Jobs on this runner that have not ended.");
        meter.CreateObservableGauge("logquota_runner_spool_bytes", SpoolBytes,
            description: "Bytes of log spool files on disk: the jobs the server has not released yet.");
        meter.CreateObservableGauge("logquota_runner_isolation_info", IsolationInfo,
            description: "Always 1; the labels name the job isolation in force (kill: cgroup, pid_namespace, process_scan; users: per_job, shared).");
    }

    /// <summary>The registry whose jobs the gauges observe; set once by the registry itself.</summary>
    internal void Observe(JobRegistry registry) => _registry = registry;

    internal void Read(bool tty, int bytes) => _read.Add(bytes, tty ? Tty : Pipe);

    internal void Stored(bool tty, int bytes) => _stored.Add(bytes, tty ? Tty : Pipe);

    /// <summary>A quota kill; <paramref name="latency"/> is null for a kill with a grace, which is not a latency.</summary>
    internal void QuotaKill(TimeSpan? latency)
    {
        _kills.Add(1);
        if (latency is { } value)
        {
            _killSeconds.Record(value.TotalSeconds);
        }
    }

    private long ActiveJobs() => _registry?.Jobs.Count(j => !j.State.IsFinal()) ?? 0;

    private long SpoolBytes() => _registry?.Jobs.Sum(j => j.SpoolBytes) ?? 0;

    private IEnumerable<Measurement<long>> IsolationInfo()
    {
        if (_registry?.Isolation.Info is not { } info)
        {
            yield break;
        }

        yield return new Measurement<long>(1,
            new KeyValuePair<string, object?>("kill", WireNames.Of(info.Kill)),
            new KeyValuePair<string, object?>("users", WireNames.Of(info.Users)));
    }
}
