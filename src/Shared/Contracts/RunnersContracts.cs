namespace LogQuota.Shared.Contracts;

/// <summary>Whether a runner takes new jobs (<c>GET /api/runners</c>).</summary>
public enum RunnerState
{
    /// <summary>Answers its health check and takes new jobs, up to its capacity.</summary>
    Active,

    /// <summary>Takes no new job; the jobs it holds run to their end, then it can be removed.</summary>
    Draining,

    /// <summary>Did not answer its last health check; new jobs go to it only when no reachable runner has room.</summary>
    Unreachable,
}

/// <summary>One runner in <c>GET /api/runners</c>.</summary>
/// <param name="Name">What it is called in <c>/api/runners/{name}</c>; <c>local</c> for the server's own local runner.</param>
/// <param name="Url">The base URL the server calls it at.</param>
/// <param name="State">Whether it takes new jobs.</param>
/// <param name="Jobs">Jobs it holds now (being handed over, running or stopping).</param>
/// <param name="Capacity">The most jobs it takes at once (its <c>DSTACK_RUNNER_MAX_JOBS</c>); null when it has not said (it never answered, or is older).</param>
/// <param name="Isolation">How it isolates jobs, as it last said; null when it has not answered yet.</param>
/// <param name="RunnerId">The identity it reports (kept in its directory); null when it has not answered yet.</param>
public sealed record RunnerView(
    string Name,
    string Url,
    RunnerState State,
    int Jobs,
    int? Capacity,
    IsolationInfo? Isolation,
    string? RunnerId);

/// <summary>Answer of <c>GET /api/runners</c>: every runner, by name.</summary>
public sealed record RunnersList(IReadOnlyList<RunnerView> Runners);

/// <summary>Body of <c>POST /api/runners</c>.</summary>
/// <param name="Url">The runner's base URL (<c>http://10.0.0.5:10999</c>); it must answer with the shared runner token.</param>
/// <param name="Name">Matches <c>^[a-z][a-z0-9-]{0,40}$</c>; made from the URL's host and port when absent.</param>
public sealed record AddRunnerRequest(string Url, string? Name = null);
