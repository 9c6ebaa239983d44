using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>
/// A runner jobs may go to, as every replica sees it: seeded from <c>DSTACK_SERVER_RUNNERS</c> at start-up and added,
/// drained and removed at run time (<c>/api/runners</c>). The server's own local runner is never stored: it lives and
/// dies with its process, and only that process can reach it.
/// </summary>
public sealed class RunnerEntity
{
    /// <summary>What users call it (<c>^[a-z][a-z0-9-]{0,40}$</c>), unique.</summary>
    public required string Name { get; set; }

    /// <summary>The base URL the server calls it at, as stored in <c>jobs.runner</c> of the jobs given to it; unique.</summary>
    public required string Url { get; set; }

    /// <summary>The id the runner reports in its health check (kept in its directory), unique; null until it has answered.</summary>
    public string? RunnerId { get; set; }

    /// <summary>No new job goes to it; the jobs it holds run to their end.</summary>
    public bool Draining { get; set; }

    /// <summary>Its capacity as it last reported it (<c>DSTACK_RUNNER_MAX_JOBS</c>); null: it never said (an older runner).</summary>
    public int? MaxJobs { get; set; }

    /// <summary>Its kill mechanism as it last reported it; null until it has answered.</summary>
    public IsolationKill? IsolationKill { get; set; }

    /// <summary>Whose uid its jobs run under, as it last reported it; null until it has answered.</summary>
    public IsolationUsers? IsolationUsers { get; set; }

    public DateTimeOffset AddedAt { get; set; }
}
