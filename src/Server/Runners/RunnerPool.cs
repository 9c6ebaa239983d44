using System.Collections.Concurrent;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Refit;

namespace LogQuota.Server.Runners;

/// <summary>
/// The runners jobs can go to, as this replica last read them from the database (<see cref="RunnerWatch"/>, every few
/// seconds, and at once after a change made here), plus its local runner; their Refit clients; and whether each answered
/// its last call.
/// </summary>
public sealed class RunnerPool(ServerSettings settings, IServiceProvider services, IHttpClientFactory http)
{
    /// <summary>Service key of the local runner's client; its address is only known once it listens.</summary>
    public const string EmbeddedKey = "embedded";

    /// <summary>The name the server's own local runner is listed under.</summary>
    public const string LocalName = "local";

    /// <summary>The HttpClient behind the clients of runners added at run time (the token, Polly per runner address).</summary>
    internal const string AddedClientName = "runner-added";

    private static readonly RefitSettings Refit = new(new SystemTextJsonContentSerializer(LogQuotaJson.Options));

    private readonly ConcurrentDictionary<string, bool> _healthy = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, IRunnerApi> _added = new(StringComparer.Ordinal);

    /// <summary>This replica's own spelling of a stored runner's address, by runner id (from DSTACK_SERVER_RUNNERS).</summary>
    private readonly ConcurrentDictionary<string, string> _ownAddress = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, bool> _reachable = new(StringComparer.Ordinal);

    private volatile IReadOnlyList<RunnerEntity> _stored = [];

    /// <summary>The local runner's health answer, as <see cref="RunnerWatch"/> last had it; null without one.</summary>
    public HealthcheckResponse? LocalHealth { get; set; }

    /// <summary>The stored runners as last read, draining ones included.</summary>
    public IReadOnlyList<RunnerEntity> Stored => _stored;

    /// <summary>The local runner's base URL when the server hosts one and it has started, else null.</summary>
    public string? LocalUrl => settings.UsesEmbeddedRunner ? services.GetService<EmbeddedRunner>()?.Started : null;

    /// <summary>Base URLs of the runners whose jobs this replica may process, as stored in <c>jobs.runner</c>.</summary>
    public IReadOnlyList<string> Runners => LocalUrl is { } local ? [local, .. _stored.Select(r => r.Url)] : [.. _stored.Select(r => r.Url)];

    /// <summary>Replaces what this replica knows of the stored runners.</summary>
    public void Update(IReadOnlyList<RunnerEntity> stored) => _stored = stored;

    /// <summary>Remembers that this replica reaches the runner <paramref name="runnerId"/> at <paramref name="ownUrl"/>.</summary>
    public void Alias(string runnerId, string ownUrl) => _ownAddress[runnerId] = ownUrl;

    /// <summary>The client of a runner, or null when <paramref name="runner"/> is not one of ours any more
    /// (a job assigned to a local runner of a previous server process, or a runner removed since).</summary>
    public IRunnerApi? Client(string runner)
    {
        if (LocalUrl is { } local && local == runner)
        {
            return services.GetRequiredKeyedService<IRunnerApi>(EmbeddedKey);
        }

        var stored = _stored.FirstOrDefault(r => r.Url == runner);
        if (stored is null)
        {
            // A runner of DSTACK_SERVER_RUNNERS is also registered under its address before the first read.
            return settings.UsesEmbeddedRunner ? null : services.GetKeyedService<IRunnerApi>(runner);
        }

        var address = OwnAddress(stored);
        return services.GetKeyedService<IRunnerApi>(address) ?? _added.GetOrAdd(address, NewClient);
    }

    /// <summary>
    /// The runners whose stream this replica may read, by their stored identity: the local runner and every stored runner
    /// that has reported its id (one that never answered has no stream to read yet). <c>Url</c> is the address its jobs are
    /// stored under (<c>jobs.runner</c>), <c>Address</c> the one this replica calls.
    /// </summary>
    public IReadOnlyList<StreamedRunner> Streamed()
    {
        var streamed = new List<StreamedRunner>();
        if (LocalUrl is { } local && LocalHealth?.RunnerId is { } localId)
        {
            streamed.Add(new StreamedRunner(localId, local, local));
        }

        streamed.AddRange(_stored.Where(r => r.RunnerId is not null).Select(r => new StreamedRunner(r.RunnerId!, r.Url, OwnAddress(r))));
        return streamed;
    }

    /// <summary>The address this replica was given for a stored runner, when it was given one (it may be the only one it
    /// reaches), else the stored one.</summary>
    private string OwnAddress(RunnerEntity stored) =>
        stored.RunnerId is { } id && _ownAddress.TryGetValue(id, out var own) ? own : stored.Url;

    /// <summary>False when the runner's last call failed; new jobs go to healthy runners first.</summary>
    public bool IsHealthy(string runner) => _healthy.GetValueOrDefault(runner, true);

    public void Report(string runner, bool healthy) => _healthy[runner] = healthy;

    /// <summary>Whether the runner answered this replica's last health check (<see cref="RunnerWatch"/>); true before the first.</summary>
    public bool IsReachable(string runner) => _reachable.GetValueOrDefault(runner, true);

    public void MarkReachable(string runner, bool reachable) => _reachable[runner] = reachable;

    private IRunnerApi NewClient(string address)
    {
        var client = http.CreateClient(AddedClientName);
        client.BaseAddress = new Uri(address);
        return RestService.For<IRunnerApi>(client, Refit);
    }
}

/// <summary>A runner whose stream is read: its stored identity, the address its jobs are stored under, and the one called.</summary>
public sealed record StreamedRunner(string RunnerId, string Url, string Address);
