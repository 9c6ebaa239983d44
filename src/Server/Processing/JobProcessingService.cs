using LogQuota.Server.Configuration;

namespace LogQuota.Server.Processing;

/// <summary>Runs <see cref="JobProcessor"/> once per <c>DSTACK_SERVER_POLL_INTERVAL</c>.</summary>
internal sealed class JobProcessingService(
    JobProcessor processor,
    ServerSettings settings,
    TimeProvider time,
    ILogger<JobProcessingService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.PollInterval, time);
        try
        {
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
}
