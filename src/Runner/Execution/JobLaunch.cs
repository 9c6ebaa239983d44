namespace LogQuota.Runner.Execution;

/// <summary>What the supervisor starts: one shell command line with its environment.</summary>
/// <param name="ShellCommand">Passed to <c>/bin/sh -c</c>.</param>
/// <param name="Environment">The complete environment of the job.</param>
/// <param name="WorkingDirectory">An existing directory.</param>
/// <param name="Tty">Run under a new pseudo-terminal (true) or with stdout and stderr on one pipe.</param>
/// <param name="Marker">A <c>NAME=value</c> entry of <paramref name="Environment"/> that every process of the job inherits; used to find descendants that left the job's session.</param>
/// <param name="Sandbox">Where the job runs (cgroup, PID namespace, uid) and how its processes are killed.</param>
internal sealed record JobLaunch(
    string ShellCommand,
    IReadOnlyDictionary<string, string> Environment,
    string WorkingDirectory,
    bool Tty,
    string Marker,
    LogQuota.Runner.Isolation.JobSandbox Sandbox)
{
    /// <summary>
    /// A relative directory below <see cref="WorkingDirectory"/> that the shim creates if missing and enters once it
    /// runs as the job's user, so the job owns what is created and no link in the tree leads the runner anywhere.
    /// </summary>
    public string? Subdirectory { get; init; }

    /// <summary>The width of the job's terminal in characters (a job on a pipe has none); the stored screen is as wide.</summary>
    public int Columns { get; init; } = LogQuota.Shared.Contracts.JobSpecRules.DefaultColumns;

    /// <summary>The job as another system runs it (Slurm), when the process started here is only its local end; null runs it here.</summary>
    public IExternalJob? External { get; init; }
}

/// <summary>The job could not be started; the message says why.</summary>
internal sealed class JobStartException(string message) : Exception(message);
