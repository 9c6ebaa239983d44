using LogQuota.Server.Configuration;
using LogQuota.Server.Runners;

namespace LogQuota.Server.Processing;

/// <summary>Runs <see cref="JobProcessor"/> once per <c>DSTACK_SERVER_POLL_INTERVAL</c>.</summary>
internal sealed class JobProcessingService(
    JobProcessor processor,
    ServerSettings settings,
    TimeProvider time,
    IServiceProvider services,
    ILogger<JobProcessingService> logger) : BackgroundService
{
    /// <summary>The termination message of the jobs of a local runner that ends with its server.</summary>
    public const string ServerShuttingDownMessage = "Server is shutting down";

    /// <summary>
    /// Stops the loop between two transactions. Jobs on external runners are left running: their state is in the
    /// database and on the runner, and the server picks them up where it left off when it starts again. The local
    /// runner's jobs cannot outlive this process, so they are ended with the reason stated, and one last pass stores
    /// their final states and logs and releases them, before the runner itself stops (hosted services stop in reverse).
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!settings.UsesEmbeddedRunner || ExecuteTask is null)
        {
            return;
        }

        try
        {
            await services.GetRequiredService<EmbeddedRunner>().StopJobsAsync(ServerShuttingDownMessage, cancellationToken);
            await processor.ProcessFinalPassAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("The shutdown timeout cut the last pass short; the local runner's jobs may be recorded as unreachable");
        }
        catch (ObjectDisposedException)
        {
            // A second stop raced this one and disposed the services (a host stopped by its owner and by
            // RunAsync at once, as in WebApplicationFactory); that stop saw the same jobs, nothing is lost here.
            logger.LogWarning("The server's services were disposed during the last pass");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.PollInterval, time);
        try
        {
            await WhenStartedAsync(services, stoppingToken);
            do
            {
                try
                {
                    await processor.ProcessOnceAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A pass that failed half-way left every job in a stored, consistent state; try again next tick.
                    logger.LogError(e, "A job processing pass failed");
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the pass in flight was cancelled between transactions; nothing is left half-written.
        }
    }

    /// <summary>
    /// Waits until the server listens. A start-up that fails after the hosted services started (a busy port) stops and
    /// disposes them at once (<see cref="LogQuota.Hosting.HostRun"/>); a pass running then would log an
    /// ObjectDisposedException with its stack under the one line that says what went wrong.
    /// </summary>
    internal static async Task WhenStartedAsync(IServiceProvider services, CancellationToken stoppingToken)
    {
        var started = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted;
        var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (started.Register(() => signal.TrySetResult()))
        using (stoppingToken.Register(() => signal.TrySetCanceled(stoppingToken)))
        {
            await signal.Task;
        }
    }
}
