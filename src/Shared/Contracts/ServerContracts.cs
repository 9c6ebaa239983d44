namespace LogQuota.Shared.Contracts;

/// <summary>Status of a run (dstack's statuses, SPEC §4).</summary>
public enum RunStatus
{
    /// <summary>dstack's status of a run waiting to be retried; LogQuota retries no run, so it never reports it.</summary>
    Pending,

    /// <summary>Accepted: a new run, before its job runs (waiting for a runner, or being handed to one).</summary>
    Submitted,

    /// <summary>Its job is running.</summary>
    Running,

    /// <summary>A stop is in progress.</summary>
    Terminating,

    /// <summary>Stopped by a user, the server or its max duration.</summary>
    Terminated,

    /// <summary>Its job failed.</summary>
    Failed,

    /// <summary>Its job exited 0.</summary>
    Done,
}

/// <summary>Status of a job on the server (dstack's statuses, SPEC §4).</summary>
public enum JobStatus
{
    /// <summary>Stored, waiting for a runner.</summary>
    Submitted,

    /// <summary>Being submitted to a runner.</summary>
    Provisioning,

    /// <summary>Running on its runner.</summary>
    Running,

    /// <summary>A stop is in progress.</summary>
    Terminating,

    /// <summary>Stopped.</summary>
    Terminated,

    /// <summary>Given up before it ran.</summary>
    Aborted,

    /// <summary>Failed.</summary>
    Failed,

    /// <summary>Exited 0.</summary>
    Done,
}

/// <summary>Body of <c>POST /api/runs</c>.</summary>
/// <param name="RunName">Matches <c>^[a-z][a-z0-9-]{0,40}$</c>; generated when absent.</param>
/// <param name="Commands">Shell commands run as <c>cmd1 &amp;&amp; cmd2 ...</c>.</param>
/// <param name="Env">Extra environment variables.</param>
/// <param name="WorkingDir">Where the job starts: a relative path is taken inside the code directory (no <c>..</c> segments), an absolute one as given.</param>
/// <param name="MaxDuration">Seconds before the job is terminated.</param>
/// <param name="LogQuotaHour">Requested hourly log quota in bytes (at most the server's).</param>
/// <param name="Tty">Run under a pseudo-terminal (default true).</param>
/// <param name="LogQuotaAction">What happens at the quota's crossing; the server's default when null. <c>observe</c> is refused when the server's action is <c>kill</c>.</param>
/// <param name="LogQuotaKillGrace">Seconds from SIGTERM to SIGKILL at a quota kill (0–3600; default 0).</param>
/// <param name="CodeHash">The SHA-256 of code uploaded with <c>PUT /api/code/{sha256}</c> (SPEC §9); the job starts in it. 404 when unknown.</param>
/// <param name="Resources">CPUs, memory (bytes, or a size such as <c>"8GiB"</c>) and GPUs the job asks; 400 when no runner can give them.</param>
/// <param name="Columns">The width of the job's terminal in characters (20–1000); 200 when null.</param>
/// <param name="Secrets">Names of the project's secrets the job gets as environment variables; 400 naming one the project does not have.</param>
public sealed record SubmitRunRequest(
    IReadOnlyList<string> Commands,
    string? RunName = null,
    IReadOnlyDictionary<string, string>? Env = null,
    string? WorkingDir = null,
    int? MaxDuration = null,
    long? LogQuotaHour = null,
    bool? Tty = null,
    LogQuotaAction? LogQuotaAction = null,
    int? LogQuotaKillGrace = null,
    string? CodeHash = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] JobResources? Resources = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] int? Columns = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Secrets = null);

/// <summary>One row of <c>GET /api/runs</c>, the <c>ps</c> view of a run.</summary>
/// <param name="RunName">The run's name.</param>
/// <param name="Status">The run's status.</param>
/// <param name="StatusMessage">What <c>ps</c> shows: <c>running</c>, <c>exited (N)</c>, <c>error</c>, <c>stopped</c>, ...</param>
/// <param name="Error">Why it failed, in words (<c>log quota exceeded</c>), or null.</param>
/// <param name="TerminationReason">The job's termination reason, or null.</param>
/// <param name="TerminationMessage">The job's termination message, or null.</param>
/// <param name="ExitStatus">The job's exit status, or null.</param>
/// <param name="SubmittedAt">When the run was submitted (UTC).</param>
/// <param name="FinishedAt">When it ended (UTC), or null.</param>
/// <param name="LogQuotaHour">The effective hourly log quota in bytes; null is unlimited.</param>
/// <param name="LogBytesHour">Stored log bytes in the job's current hourly bucket.</param>
/// <param name="LogTruncated">True when the quota's <c>truncate</c> action dropped output of the run.</param>
/// <param name="LogQuota">The quota block (limit, action, usage, bucket, drops, evidence); null until the job has started on a runner.</param>
/// <param name="Waiting">While the job is <c>provisioning</c> on a runner that runs it through Slurm: Slurm's job id and pending reason (<c>Slurm job 12 is pending: Resources</c>); else null.</param>
public record RunRow(
    string RunName,
    RunStatus Status,
    string StatusMessage,
    string? Error,
    TerminationReason? TerminationReason,
    string? TerminationMessage,
    int? ExitStatus,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? FinishedAt,
    long? LogQuotaHour,
    long LogBytesHour,
    bool LogTruncated = false,
    LogQuotaStatus? LogQuota = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? Waiting = null);

/// <summary>Something that happened to a run: a quota warning or crossing, a drop report, a stop asked, a runner lost.</summary>
/// <param name="Timestamp">When it happened (UTC, milliseconds).</param>
/// <param name="Type"><c>log_quota_warning</c>, <c>log_quota_exceeded</c>, <c>log_truncated</c>, <c>stop_requested</c>, <c>runner_unreachable</c>.</param>
/// <param name="Message">What happened, in words.</param>
public sealed record RunEvent(DateTimeOffset Timestamp, string Type, string Message);

/// <summary>A job as shown in <c>GET /api/runs/{run_name}</c>.</summary>
/// <param name="JobId">The job's id.</param>
/// <param name="Status">The job's status.</param>
/// <param name="StatusMessage">As in <see cref="RunRow.StatusMessage"/>.</param>
/// <param name="Error">As in <see cref="RunRow.Error"/>.</param>
/// <param name="TerminationReason">Why it ended, or null.</param>
/// <param name="TerminationMessage">The termination message, or null.</param>
/// <param name="ExitStatus">The exit status, or null.</param>
/// <param name="Runner">Base URL of the runner it was assigned to, or null.</param>
/// <param name="JobSpec">The spec sent to the runner, <c>log_quota_hour</c> included.</param>
public sealed record JobDetails(
    Guid JobId,
    JobStatus Status,
    string StatusMessage,
    string? Error,
    TerminationReason? TerminationReason,
    string? TerminationMessage,
    int? ExitStatus,
    string? Runner,
    JobSpec JobSpec);

/// <summary>Answer of <c>GET /api/runs/{run_name}</c> and <c>POST /api/runs</c>.</summary>
public sealed record RunDetails(
    string RunName,
    RunStatus Status,
    string StatusMessage,
    string? Error,
    TerminationReason? TerminationReason,
    string? TerminationMessage,
    int? ExitStatus,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? FinishedAt,
    long? LogQuotaHour,
    long LogBytesHour,
    bool LogTruncated,
    LogQuotaStatus? LogQuota,
    IReadOnlyList<JobDetails> Jobs,
    IReadOnlyList<RunEvent> Events,
    string? Waiting = null)
    : RunRow(RunName, Status, StatusMessage, Error, TerminationReason, TerminationMessage, ExitStatus,
        SubmittedAt, FinishedAt, LogQuotaHour, LogBytesHour, LogTruncated, LogQuota, Waiting);

/// <summary>A stored log event as the server returns it.</summary>
/// <param name="Timestamp">When the runner stored it (UTC, milliseconds).</param>
/// <param name="Message">The stored bytes (base64 on the wire).</param>
/// <param name="LogSource"><c>stdout</c> for the job's output, <c>runner</c> for the runner's <c>[logquota] </c> markers and a dropped tail.</param>
/// <param name="Styles">The message's style runs (colours, links), never counted; absent for plain text.</param>
public sealed record RunLogEvent(
    DateTimeOffset Timestamp,
    byte[] Message,
    LogSource LogSource = LogSource.Stdout,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] LogStyles? Styles = null);

/// <summary>Answer of <c>GET /api/runs/{run_name}/logs</c>.</summary>
/// <param name="Logs">One page of log events.</param>
/// <param name="NextToken">Pass as <c>next_token</c> for the next page; null on the last page.</param>
/// <param name="Live">
/// The run's live region as the server last pulled it (base64 on the wire): UTF-8 text of the lines still on the
/// job's screen that the program may redraw, such as progress bars, <c>\n</c>-separated. Replaced on every pull,
/// null when there is none or the job has ended. Never stored as log events and never counted against the quota;
/// a follower draws it below the stored lines and redraws it in place. Every page carries the latest one.
/// </param>
public sealed record LogsResponse(IReadOnlyList<RunLogEvent> Logs, string? NextToken, byte[]? Live = null);
