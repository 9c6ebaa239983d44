namespace LogQuota.Shared.Contracts;

/// <summary>What to run: the job specification the server sends to a runner (SPEC §3).</summary>
/// <param name="Commands">Shell commands, run in one <c>/bin/sh</c> as <c>cmd1 &amp;&amp; cmd2 ...</c>.</param>
/// <param name="Env">Extra environment variables for the job.</param>
/// <param name="WorkingDir">Working directory; a fresh directory per job when null.</param>
/// <param name="MaxDuration">Seconds after which the job is terminated; unlimited when null.</param>
/// <param name="LogQuotaHour">Stored log bytes allowed per one-hour bucket; unlimited when null.</param>
/// <param name="Tty">Run under a pseudo-terminal (default) or on a pipe.</param>
/// <param name="LogQuotaAction">What happens when a bucket crosses <paramref name="LogQuotaHour"/> (default <c>kill</c>).</param>
/// <param name="LogQuotaWarnAt">Percentages of the quota (1–99) at which a warning is written, once per bucket each; null means the default, 80; empty disables warnings.</param>
/// <param name="LogQuotaKillGrace">Seconds between SIGTERM and SIGKILL at a quota kill (0–3600, default 0: SIGKILL at once).</param>
/// <param name="CodeHash">
/// The SHA-256 (64 lowercase hex digits) of the gzip'd tar holding the user's code (SPEC §9), or null for none. The
/// runner unpacks it into the job's code directory, as the job's user, before the first command; the job starts there.
/// </param>
/// <param name="Resources">What the job asks of its runner (CPUs, memory in bytes, GPUs), or null for nothing beyond the runner's defaults.</param>
/// <param name="Columns">
/// The width of the job's pseudo-terminal in characters (20–1000), which is also the width of the screen its log is
/// stored from; <see cref="JobSpecRules.DefaultColumns"/> when null. Ignored for a job on a pipe.
/// </param>
/// <param name="Secrets">
/// The names of the project's secrets the job gets as environment variables, or null for none. Only the names: the
/// values travel beside the spec, in <see cref="SubmitBody.Secrets"/>, and are never stored with it.
/// </param>
public sealed partial record JobSpec(
    IReadOnlyList<string> Commands,
    IReadOnlyDictionary<string, string>? Env = null,
    string? WorkingDir = null,
    int? MaxDuration = null,
    long? LogQuotaHour = null,
    bool Tty = true,
    LogQuotaAction LogQuotaAction = LogQuotaAction.Kill,
    IReadOnlyList<int>? LogQuotaWarnAt = null,
    int LogQuotaKillGrace = 0,
    string? CodeHash = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] JobResources? Resources = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? Columns = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Secrets = null);

/// <summary>The run a job belongs to, as the runner sees it.</summary>
/// <param name="Id">The run's id.</param>
/// <param name="RunName">The run's name (exported to the job as <c>DSTACK_RUN_NAME</c>).</param>
public sealed record RunRef(Guid Id, string RunName);

/// <summary>Body of <c>POST /api/jobs</c> on a runner.</summary>
/// <param name="JobId">The job's id; submitting the same body twice is idempotent.</param>
/// <param name="Run">The run the job belongs to.</param>
/// <param name="JobSpec">What to run.</param>
/// <param name="Secrets">
/// The values of the secrets <see cref="JobSpec.Secrets"/> names, by name, decrypted by the server as it hands the job
/// over: the job gets them in its environment, and the runner replaces each value with <c>***</c> in everything it
/// stores or shows of the job's output. Null when the job asks for none.
/// </param>
public sealed record SubmitBody(
    Guid JobId,
    RunRef Run,
    JobSpec JobSpec,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Secrets = null)
{
    /// <summary>True when <paramref name="other"/> submits the same job with the same secrets.</summary>
    public bool Equals(SubmitBody? other) =>
        other is not null && JobId == other.JobId && Run == other.Run && JobSpec == other.JobSpec && ValueEquality.Entries(Secrets, other.Secrets);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(JobId, Run, JobSpec);
}

/// <summary>One change of a job's state, as recorded by the runner.</summary>
/// <param name="State">The new state.</param>
/// <param name="Timestamp">Milliseconds since the Unix epoch; strictly increasing per job across states and logs.</param>
/// <param name="TerminationReason">Why the job ended, for final states other than <see cref="JobState.Done"/>.</param>
/// <param name="TerminationMessage">A human-readable explanation of the ending.</param>
/// <param name="ExitStatus">The main process's exit status, when it exited on its own.</param>
public sealed record JobStateEvent(
    JobState State,
    long Timestamp,
    TerminationReason? TerminationReason = null,
    string? TerminationMessage = null,
    int? ExitStatus = null);

/// <summary>A piece of stored log text.</summary>
/// <param name="Timestamp">Milliseconds since the Unix epoch; strictly increasing per job.</param>
/// <param name="Message">The stored bytes (base64 on the wire); not necessarily valid UTF-8.</param>
/// <param name="LogSource"><c>stdout</c> for the job's output, <c>runner</c> for the runner's own <c>[logquota] </c> marker lines.</param>
/// <param name="Styles">The message's style runs (colours, links), never counted; absent for plain text.</param>
public sealed record LogEvent(
    long Timestamp,
    byte[] Message,
    LogSource LogSource = LogSource.Stdout,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] LogStyles? Styles = null);

/// <summary>Answer of <c>GET /api/jobs/{job_id}/pull</c>.</summary>
/// <param name="JobStates">State events with a timestamp after the one asked for.</param>
/// <param name="JobLogs">Log events with a timestamp after the one asked for, bounded in size.</param>
/// <param name="LastUpdated">The timestamp to pass on the next pull: the newest event in this answer, or the one asked for.</param>
/// <param name="HasMore">True when more events can be pulled now or the job has not ended yet.</param>
/// <param name="LogBytesHour">Stored log bytes counted in the current hourly bucket.</param>
/// <param name="Live">
/// The live region's current text (base64 on the wire; lines separated by <c>\n</c>): lines still on screen
/// that the program may redraw, never stored as log events and never counted. Null when empty or ended.
/// </param>
/// <param name="LogQuota">The quota block (limit, action, usage, bucket, drops, evidence) as of this answer.</param>
/// <param name="JobEvents">Quota events (warnings, crossings, drop reports) and disk events (a stall on a full disk and its end, a disk limit passed) with a timestamp after the one asked for.</param>
/// <param name="LogSections">Section marks (folds of the log) with a timestamp after the one asked for; null or absent when there are none.</param>
public sealed record PullResponse(
    IReadOnlyList<JobStateEvent> JobStates,
    IReadOnlyList<LogEvent> JobLogs,
    long LastUpdated,
    bool HasMore,
    long LogBytesHour,
    byte[]? Live = null,
    LogQuotaStatus? LogQuota = null,
    IReadOnlyList<JobEvent>? JobEvents = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<LogSectionMark>? LogSections = null);

/// <summary>Optional body of <c>POST /api/jobs/{job_id}/stop</c>.</summary>
/// <param name="TerminationReason">Reason recorded in the final state; <c>terminated_by_server</c> when null.</param>
/// <param name="TerminationMessage">Message recorded in the final state.</param>
public sealed record StopBody(TerminationReason? TerminationReason = null, string? TerminationMessage = null);

/// <summary>Answer of <c>GET /api/healthcheck</c> on both services.</summary>
/// <param name="Service"><c>logquota-runner</c> or <c>logquota-server</c>.</param>
/// <param name="Version">The service's version.</param>
/// <param name="Isolation">The runner's isolation of jobs, probed at its start (SPEC §7); null on the server.</param>
/// <param name="Resources">The most of each resource one job may ask of the runner (SPEC §9); null on the server.</param>
/// <param name="RunnerId">
/// The runner's identity, made once and kept in its directory: the same runner however its address is written
/// (<c>localhost</c> or <c>127.0.0.1</c>); null on the server and on older runners.
/// </param>
/// <param name="MaxJobs">The most jobs the runner takes at once (<c>DSTACK_RUNNER_MAX_JOBS</c>); null on the server and on older runners.</param>
public sealed record HealthcheckResponse(
    string Service,
    string Version,
    IsolationInfo? Isolation = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] RunnerCapacity? Resources = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? RunnerId = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? MaxJobs = null);

/// <summary>How a runner keeps each job's processes together (for the kill) and apart (from each other and from itself).</summary>
/// <param name="Kill">What a quota kill, stop or max-duration kill goes through.</param>
/// <param name="Users">Whether each job runs under a uid of its own.</param>
/// <param name="MemoryMax">The memory limit of each job in bytes where one is in force (<c>DSTACK_RUNNER_JOB_MEMORY_MAX</c> and a usable memory controller), else null.</param>
/// <param name="DiskMax">The disk limit of each job's files in bytes (<c>DSTACK_RUNNER_JOB_DISK_MAX</c>), else null.</param>
public sealed record IsolationInfo(
    IsolationKill Kill,
    IsolationUsers Users,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? MemoryMax = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] long? DiskMax = null);

/// <summary>The kill mechanism in force, strongest first.</summary>
public enum IsolationKill
{
    /// <summary>Each job in its own cgroup v2 group from its first instruction; killed through <c>cgroup.kill</c>.</summary>
    Cgroup,

    /// <summary>Each job's shell is PID 1 of its own PID namespace; its death kills every process in it.</summary>
    PidNamespace,

    /// <summary>A scan of <c>/proc</c> by session, descent and the <c>DSTACK_JOB_ID</c> marker.</summary>
    ProcessScan,
}

/// <summary>Whose uid a job runs under.</summary>
public enum IsolationUsers
{
    /// <summary>A uid of its own from <c>DSTACK_RUNNER_JOB_UIDS</c> (a root runner).</summary>
    PerJob,

    /// <summary>The runner's own uid (a non-root runner).</summary>
    Shared,

    /// <summary>Every job runs as the existing user named by <c>DSTACK_RUNNER_JOB_USER</c> (a root runner), with its home and groups.</summary>
    JobUser,
}
