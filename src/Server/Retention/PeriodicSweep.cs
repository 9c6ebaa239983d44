using LogQuota.Server.Data.Faults;
using LogQuota.Server.Processing;

namespace LogQuota.Server.Retention;

/// <summary>
/// The loop of the server's cleaners (expired logs, past budget hours, unused code): a pass once the server listens and
/// one every interval until it stops; a pass that fails is logged and the next one tries again, so a full or read-only
/// database delays a cleanup and never stops it.
/// </summary>
internal static class PeriodicSweep
{
    /// <param name="what">What a pass does, for the log: <c>Deleting expired logs</c>.</param>
    /// <param name="services">Whose start the first pass waits for: a start-up that fails stops and disposes the
    /// services at once, and a pass running then logged its failure with a stack under the one line that says what went wrong.</param>
    public static async Task RunAsync(
        Func<CancellationToken, Task> pass, TimeSpan interval, string what, IServiceProvider services, TimeProvider time, ILogger logger, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            await JobProcessingService.WhenStartedAsync(services, stoppingToken);
            do
            {
                try
                {
                    await pass(stoppingToken);
                }
                catch (Exception e) when (StorageFault.From(e) is { } fault)
                {
                    logger.LogWarning("{What} waits for the next pass: the database cannot be written: {Fault}", what, fault);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogError(e, "{What} failed; the next pass tries again", what);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
