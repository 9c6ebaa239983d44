using System.Collections.Concurrent;
using LogQuota.Server.Configuration;
using LogQuota.Shared.Api;

namespace LogQuota.Server.Runners;

/// <summary>The runners jobs can go to, their Refit clients, and whether each answered its last call.</summary>
public sealed class RunnerPool(ServerSettings settings, IServiceProvider services)
{
    /// <summary>Service key of the local runner's client; its address is only known once it listens.</summary>
    public const string EmbeddedKey = "embedded";

    private readonly ConcurrentDictionary<string, bool> _healthy = new(StringComparer.Ordinal);

    /// <summary>Base URLs of the runners, as stored in <c>jobs.runner</c>.</summary>
    public IReadOnlyList<string> Runners => settings.UsesEmbeddedRunner
        ? [services.GetRequiredService<EmbeddedRunner>().BaseAddress.ToString()]
        : [.. settings.Runners.Select(r => r.ToString())];

    /// <summary>The client of a runner, or null when <paramref name="runner"/> is not one of ours any more
    /// (a job assigned to a local runner of a previous server process).</summary>
    public IRunnerApi? Client(string runner)
    {
        if (settings.UsesEmbeddedRunner)
        {
            return Runners[0] == runner ? services.GetRequiredKeyedService<IRunnerApi>(EmbeddedKey) : null;
        }

        return services.GetKeyedService<IRunnerApi>(runner);
    }

    /// <summary>False when the runner's last call failed; new jobs go to healthy runners first.</summary>
    public bool IsHealthy(string runner) => _healthy.GetValueOrDefault(runner, true);

    public void Report(string runner, bool healthy) => _healthy[runner] = healthy;
}
