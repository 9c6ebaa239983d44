using Microsoft.Extensions.Hosting;

namespace LogQuota.Hosting;

/// <summary>How the server and the runner run their host: as <c>RunAsync</c> does, but a failed start stops what started.</summary>
public static class HostRun
{
    /// <summary>How long the stop after a failed start may take before the start's own failure is told anyway.</summary>
    private static readonly TimeSpan StopAfterFailedStart = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Starts <paramref name="host"/>, waits for its shutdown, stops and disposes it, as <c>RunAsync</c> does, except that
    /// a start that fails part-way (a busy port, a local runner that cannot start) stops the services that did start
    /// before they are disposed, and then throws the start's failure. Since .NET 10 a background service's ExecuteAsync
    /// begins in <c>Task.Run</c> on its stopping token: disposed before the thread pool ran it (a busy machine), it ends
    /// cancelled, and a host that was not stopped logs that as a crash with a stack trace, under the one line that says
    /// what went wrong (seen once in .ci/stress beside a CPU hog). A stopped host takes it as the stop it is.
    /// </summary>
    public static async Task RunUntilStoppedAsync(this IHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            try
            {
                await host.StartAsync();
            }
            catch
            {
                using var limit = new CancellationTokenSource(StopAfterFailedStart);
                try
                {
                    await host.StopAsync(limit.Token);
                }
                catch (Exception)
                {
                    // The start's failure is the one to tell; a service that also fails to stop adds nothing to it.
                }

                throw;
            }

            await host.WaitForShutdownAsync();
        }
        finally
        {
            if (host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }
        }
    }
}
