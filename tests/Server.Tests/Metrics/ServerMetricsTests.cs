using System.Diagnostics.Metrics;
using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Metrics;

/// <summary>What one committed page adds to the counters, read with a <see cref="MeterListener"/> on this test's own meters.</summary>
public sealed class ServerMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _totals = [];
    private readonly ServerMetrics _metrics;

    public ServerMetricsTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument is Counter<long>)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name + string.Concat(tags.ToArray().Select(t => $"{{{t.Key}={t.Value}}}"));
            lock (_totals)
            {
                _totals[key] = _totals.GetValueOrDefault(key) + value;
            }
        });
        _listener.Start();
        _metrics = new ServerMetrics(factory, TimeProvider.System);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void EverySeries_StartsAtZero()
    {
        Assert.Equal(0, _totals["logquota_log_bytes_stored_total"]);
        Assert.Equal(0, _totals["logquota_log_bytes_dropped_total"]);
        Assert.Equal(0, _totals["logquota_log_quota_warnings_total"]);
        Assert.Equal(["kill", "observe", "truncate"],
            _totals.Keys.Where(k => k.StartsWith("logquota_log_quota_exceeded_total", StringComparison.Ordinal)).Select(k => k.Split('=')[1].TrimEnd('}')).Order());
    }

    [Fact]
    public void APage_CountsItsBytes_TheDroppedBytesItAdds_ItsWarnings_AndItsExceedanceByTheJobsAction()
    {
        var job = Job(LogQuotaAction.Truncate);
        var page = Page([new LogEvent(1, new byte[300]), new LogEvent(2, new byte[24], LogSource.Runner)], dropped: 250,
            [new JobEvent(3, JobEventTypes.LogQuotaWarning, "80%"), new JobEvent(4, JobEventTypes.LogQuotaExceeded, "over"), new JobEvent(5, JobEventTypes.LogTruncated, "dropped")]);

        _metrics.PageStored(job, page, droppedBefore: 100);
        _metrics.PageStored(job, Page([], dropped: 250, []), droppedBefore: 250);

        Assert.Equal(324, _totals["logquota_log_bytes_stored_total"]);
        Assert.Equal(150, _totals["logquota_log_bytes_dropped_total"]);
        Assert.Equal(1, _totals["logquota_log_quota_warnings_total"]);
        Assert.Equal(1, _totals["logquota_log_quota_exceeded_total{action=truncate}"]);
        Assert.Equal(0, _totals["logquota_log_quota_exceeded_total{action=kill}"]);
    }

    private static JobEntity Job(LogQuotaAction action) => new()
    {
        Spec = new JobSpec(["true"], LogQuotaHour: 1000, LogQuotaAction: action),
    };

    private static PullResponse Page(List<LogEvent> logs, long dropped, List<JobEvent> events) => new(
        [], logs, 10, HasMore: true, LogBytesHour: 1000,
        LogQuota: new LogQuotaStatus(1000, LogQuotaAction.Truncate, 1000, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, dropped, null, null),
        JobEvents: events);
}
