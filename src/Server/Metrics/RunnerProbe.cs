using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using LogQuota.Server.Runners;

namespace LogQuota.Server.Metrics;

/// <summary>
/// <c>logquota_runner_up{runner}</c>: asks every runner's health check every <see cref="Interval"/>, whether or not
/// it has jobs (the processor only learns about runners it has work for). One series per configured runner.
/// </summary>
internal sealed class RunnerProbe : BackgroundService
{
    /// <summary>A down runner shows within 5 s; the alert waits a minute, so one lost answer does not page anyone.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private readonly RunnerPool _runners;
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly ILogger<RunnerProbe> _logger;
    private readonly ConcurrentDictionary<string, bool> _up = new(StringComparer.Ordinal);

    /// <summary>Failed checks in a row per runner, for the log only: the gauge shows each answer, the log a real outage.</summary>
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    /// <summary>Failed checks in a row before the log says a runner is down (15 s), as a Kubernetes probe's failureThreshold.</summary>
    private const int FailuresToLog = 3;

    public RunnerProbe(RunnerPool runners, IHttpClientFactory http, IMeterFactory meters, TimeProvider time,
        IHostApplicationLifetime lifetime, ILogger<RunnerProbe> logger)
    {
        ArgumentNullException.ThrowIfNull(meters);
        _runners = runners;
        _http = http;
        _time = time;
        _lifetime = lifetime;
        _logger = logger;
        meters.Create(ServerMetrics.MeterName).CreateObservableGauge("logquota_runner_up",
            () => _up.Select(r => new Measurement<int>(r.Value ? 1 : 0, new KeyValuePair<string, object?>("runner", r.Key))),
            description: "1 when the runner answered its last health check (every 5 s, 2 s timeout), else 0.");
    }

    /// <summary>The name of the probe's HTTP client: no resilience pipeline, one try per interval.</summary>
    public const string HttpClientName = "runner-probe";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The local runner's address is known once the host has started.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        using var timer = new PeriodicTimer(Interval, _time);
        try
        {
            do
            {
                await Task.WhenAll(_runners.Runners.Select(r => ProbeAsync(r, stoppingToken)));
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown.
        }
    }

    private async Task ProbeAsync(string runner, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        bool up;
        try
        {
            using var client = _http.CreateClient(HttpClientName);
            using var response = await client.GetAsync(new Uri(new Uri(runner), "api/healthcheck"), timeout.Token);
            up = response.IsSuccessStatusCode;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            // Whatever the failure (refused, timed out, a malformed answer), the runner is down for this round; an
            // exception escaping a hosted service would stop the whole server.
            _logger.LogDebug("Health check of runner {Runner} failed: {Error}", runner, e.Message);
            up = false;
        }

        _up[runner] = up;

        // One lost answer under load is not news (and an idle stack should log nothing): the log says "down" after
        // FailuresToLog failures in a row, and "up again" only after it said "down".
        var failures = up ? 0 : _failures.GetValueOrDefault(runner) + 1;
        var loggedDown = _failures.GetValueOrDefault(runner) >= FailuresToLog;
        _failures[runner] = failures;
        if (failures == FailuresToLog)
        {
            _logger.LogWarning("Runner {Runner} is down: {Failures} health checks in a row failed", runner, failures);
        }
        else if (up && loggedDown)
        {
            _logger.LogInformation("Runner {Runner} is up again (health check)", runner);
        }
    }
}
