using System.Diagnostics.Metrics;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Metrics;

/// <summary>
/// The server's counters and the processor's histogram (docs/metrics.md). Each counter counts what this process
/// committed: a page's bytes and events are counted once its transaction has committed, so a restarted server neither
/// counts a page twice nor a page it never stored. Per process, starting at 0; Prometheus' <c>rate</c> and
/// <c>increase</c> take restarts in their stride, and <c>sum</c> adds replicas up.
/// </summary>
internal sealed class ServerMetrics
{
    /// <summary>The meter's name, for the exporter.</summary>
    public const string MeterName = "LogQuota.Server";

    private readonly Counter<long> _stored;
    private readonly Counter<long> _dropped;
    private readonly Counter<long> _warnings;
    private readonly Counter<long> _exceeded;
    private readonly Histogram<double> _pass;

    public ServerMetrics(IMeterFactory meters, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var meter = meters.Create(MeterName);
        Lag = new IngestLag(time);
        _stored = meter.CreateCounter<long>("logquota_log_bytes_stored_total",
            description: "Log bytes committed to the database (job output and the runner's markers).");
        _dropped = meter.CreateCounter<long>("logquota_log_bytes_dropped_total",
            description: "Job output bytes the runners dropped because of the quota (truncate, the cut at a kill, a kill's grace).");
        _warnings = meter.CreateCounter<long>("logquota_log_quota_warnings_total",
            description: "Quota warnings (DSTACK_SERVER_LOG_QUOTA_WARN_AT) recorded as run events.");
        _exceeded = meter.CreateCounter<long>("logquota_log_quota_exceeded_total",
            description: "Buckets that crossed their job's quota, by the job's action (kill, truncate, observe).");

        // A pass over a few idle jobs takes milliseconds; one that stores 4 MiB pages takes tenths of a second.
        _pass = meter.CreateHistogram<double>("logquota_processor_pass_seconds", unit: "s",
            description: "Duration of a job-processor pass (assign, submit, pull and store every active job).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        // Every series exists from the start at 0: Prometheus' increase() cannot see a series that is born at 1, so an
        // alert on the first kill of a process would never fire.
        _stored.Add(0);
        _dropped.Add(0);
        _warnings.Add(0);
        foreach (var action in Enum.GetValues<LogQuotaAction>())
        {
            _exceeded.Add(0, ActionLabel(action));
        }

        meter.CreateObservableGauge("logquota_ingest_lag_seconds", Lag.Seconds,
            description: "Age of the oldest point up to which an active job's runner events are stored (0 without active jobs).");
    }

    /// <summary>How far behind the runners the stored events are.</summary>
    public IngestLag Lag { get; }

    /// <summary>A pulled page has committed; <paramref name="droppedBefore"/> is the job's dropped bytes stored before it.</summary>
    public void PageStored(JobEntity job, PullResponse page, long droppedBefore)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(page);
        long bytes = 0;
        foreach (var log in page.JobLogs)
        {
            bytes += log.Message.Length;
        }

        if (bytes > 0)
        {
            _stored.Add(bytes);
        }

        // The runner reports a job's dropped bytes as a total over its life; the total stored before this page is in
        // the same row, so the difference is exactly what this commit adds, across server restarts too.
        if (page.LogQuota is { } quota && quota.DroppedBytes > droppedBefore)
        {
            _dropped.Add(quota.DroppedBytes - droppedBefore);
        }

        foreach (var e in page.JobEvents ?? [])
        {
            if (e.Type == JobEventTypes.LogQuotaWarning)
            {
                _warnings.Add(1);
            }
            else if (e.Type == JobEventTypes.LogQuotaExceeded)
            {
                _exceeded.Add(1, ActionLabel(page.LogQuota?.Action ?? job.Spec.LogQuotaAction));
            }
        }
    }

    public void PassEnded(TimeSpan duration) => _pass.Record(duration.TotalSeconds);

    private static KeyValuePair<string, object?> ActionLabel(LogQuotaAction action) =>
        new("action", WireNames.Of(action));
}
