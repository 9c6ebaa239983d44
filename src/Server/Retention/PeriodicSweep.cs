using LogQuota.Server.Data.Faults;

namespace LogQuota.Server.Retention;

/// <summary>
/// The loop of the server's cleaners (expired logs, past budget hours, unused code): a pass at once and one every
/// interval until the server stops; a pass that fails is logged and the next one tries again, so a full or read-only
/// database delays a cleanup and never stops it.
/// </summary>
internal static class PeriodicSweep
{
    /// <param name="what">What a pass does, for the log: <c>Deleting expired logs</c>.</param>
    public static async Task RunAsync(Func<CancellationToken, Task> pass, TimeSpan interval, string what, TimeProvider time, ILogger logger, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
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
