using LogQuota.Runner.Configuration;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// The runner's graceful shutdown (SIGTERM, or the server that hosts it stopping), in the order Hangfire's workers
/// stop: first stop taking work, then abort the work in flight, then drain. It runs in the host's "stopping" phase,
/// before any hosted service stops and so before Kestrel closes its listener: pulls are answered throughout.
/// </summary>
public sealed class RunnerShutdown : IHostedLifecycleService
{
    /// <summary>The termination message of the jobs a runner ends because it is stopping.</summary>
    public const string ShuttingDownMessage = "Runner is shutting down";

    private readonly JobRegistry _registry;
    private readonly RunnerSettings _settings;
    private readonly ILogger<RunnerShutdown> _logger;

    internal RunnerShutdown(JobRegistry registry, RunnerSettings settings, ILogger<RunnerShutdown> logger)
    {
        _registry = registry;
        _settings = settings;
        _logger = logger;
    }

    /// <summary>
    /// Stop taking work: from here on a new submit answers 503. Then abort the work in flight: every running job gets
    /// SIGTERM on its whole tree and SIGKILL after the grace period; each ends <c>terminated</c> /
    /// <c>terminated_by_server</c> with <paramref name="message"/>. Returns once every job has recorded its final state
    /// (or the grace period and 5 s have passed).
    /// </summary>
    public async Task StopJobsAsync(string message, CancellationToken cancellationToken)
    {
        _registry.StopTakingWork();
        _logger.LogInformation("Runner stops taking jobs and ends its running ones: {Reason}", message);
        try
        {
            await _registry.StopAllAsync(message).WaitAsync(cancellationToken);
        }
        catch (TimeoutException)
        {
            _logger.LogWarning("Some jobs were still ending {GracePeriod} after they were told to stop", Job.StopGracePeriod);
        }
    }

    async Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StopJobsAsync(ShuttingDownMessage, cancellationToken);

            // Drain: each ended job's final state is only on this runner until the server has pulled and deleted it.
            // Exiting earlier would leave the server to guess (instance_unreachable after its timeout).
            if (_registry.Count > 0 && _settings.DrainPeriod > TimeSpan.Zero)
            {
                _logger.LogInformation("Waiting up to {DrainPeriod} for the server to collect {Jobs} jobs", _settings.DrainPeriod, _registry.Count);
                if (!await _registry.WaitUntilEmptyAsync(_settings.DrainPeriod, cancellationToken))
                {
                    _logger.LogWarning("{Jobs} jobs were not collected within {DrainPeriod}; their spools stay on disk", _registry.Count, _settings.DrainPeriod);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("The shutdown timeout cut the runner's shutdown short");
        }
    }

    Task IHostedService.StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedService.StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
