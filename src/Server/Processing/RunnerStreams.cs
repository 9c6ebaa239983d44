using LogQuota.Server.Configuration;
using LogQuota.Server.Runners;

namespace LogQuota.Server.Processing;

/// <summary>
/// One <see cref="RunnerStreamReader"/> loop per runner this replica knows (<see cref="RunnerPool.Streamed"/>), keyed by the
/// runner's stored identity: a loop starts for a runner added at run time (on any replica) and stops for one removed, within
/// <see cref="Interval"/> of this replica's pool learning of it. So an idle job costs nothing: no call, no transaction.
/// </summary>
internal sealed class RunnerStreams(
    ServerSettings settings,
    RunnerPool runners,
    RunnerStreamReader reader,
    CarriedStreams carried,
    TimeProvider time,
    IServiceProvider services,
    ILogger<RunnerStreams> logger) : BackgroundService
{
    /// <summary>How often the loops are matched to the runners this replica knows (an in-memory look, no query).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    private readonly Dictionary<string, Loop> _loops = new(StringComparer.Ordinal);

    /// <summary>The runner ids whose stream this replica has a loop for now (its loop may still wait for the lease).</summary>
    public IReadOnlyCollection<string> Reading
    {
        get
        {
            lock (_loops)
            {
                return [.. _loops.Keys];
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Pull != PullMode.Stream)
        {
            return;
        }

        try
        {
            // The local runner's address is known only once it listens.
            await JobProcessingService.WhenStartedAsync(services, stoppingToken);
            while (true)
            {
                await MatchAsync(runners.Streamed(), stoppingToken);
                await Task.Delay(Interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await MatchAsync([], CancellationToken.None);
        }
    }

    /// <summary>Starts a loop for each runner without one, and stops the loops of runners gone (or now at another address).</summary>
    private async Task MatchAsync(IReadOnlyList<StreamedRunner> wanted, CancellationToken stoppingToken)
    {
        var byId = wanted.ToDictionary(r => r.RunnerId, StringComparer.Ordinal);
        List<Loop> stopped;
        lock (_loops)
        {
            stopped = [.. _loops.Values.Where(l => !byId.TryGetValue(l.Runner.RunnerId, out var w) || w != l.Runner)];
            foreach (var loop in stopped)
            {
                _loops.Remove(loop.Runner.RunnerId);
            }
        }

        foreach (var loop in stopped)
        {
            await loop.Stop.CancelAsync();
            await loop.Task;
            loop.Stop.Dispose();
            carried.Set(loop.Runner.Url, false);
            carried.StoreSucceeded(loop.Runner.Url);
            logger.LogInformation("Stopped reading the stream of runner {Runner} ({RunnerId})", loop.Runner.Url, loop.Runner.RunnerId);
        }

        if (stoppingToken.IsCancellationRequested)
        {
            return;
        }

        lock (_loops)
        {
            foreach (var runner in wanted.Where(r => !_loops.ContainsKey(r.RunnerId)))
            {
                var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                _loops[runner.RunnerId] = new Loop(runner, stop, RunAsync(runner, stop.Token));
                logger.LogInformation("Reading the stream of runner {Runner} ({RunnerId})", runner.Url, runner.RunnerId);
            }
        }
    }

    private async Task RunAsync(StreamedRunner runner, CancellationToken stop)
    {
        await Task.Yield();
        try
        {
            await reader.ReadAsync(runner, stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Not expected (each step catches its own faults); the next match starts the loop again.
            logger.LogError(e, "The stream loop of runner {Runner} ended", runner.Url);
            lock (_loops)
            {
                _loops.Remove(runner.RunnerId);
            }
        }
    }

    private sealed record Loop(StreamedRunner Runner, CancellationTokenSource Stop, Task Task);
}
