namespace LogQuota.Shared.Contracts;

/// <summary>What the runner does when a job's stored log crosses its hourly quota (SPEC §2 "Quota policy").</summary>
public enum LogQuotaAction
{
    /// <summary>The job's whole process tree is killed at once (after <c>log_quota_kill_grace</c>, if any); it ends <c>failed</c> / <c>log_quota_exceeded</c>.</summary>
    Kill,

    /// <summary>Storing stops until the bucket ends; the job keeps running; at the next bucket storing resumes.</summary>
    Truncate,

    /// <summary>Nothing is dropped or killed: the crossing is only recorded, warned and counted (for rolling a quota out).</summary>
    Observe,
}

/// <summary>
/// What each <see cref="LogQuotaAction"/> does at the crossing, asked of the action rather than compared with a name
/// wherever it matters (as a Hangfire state says whether it is final).
/// </summary>
public static class LogQuotaActionTraits
{
    /// <summary>Output past the quota is not stored: <c>kill</c> (the job dies) and <c>truncate</c> (until the hour ends).</summary>
    public static bool DropsOutput(this LogQuotaAction action) => action is LogQuotaAction.Kill or LogQuotaAction.Truncate;

    /// <summary>The job's process tree is killed at the crossing: <c>kill</c>.</summary>
    public static bool Kills(this LogQuotaAction action) => action is LogQuotaAction.Kill;

    /// <summary>
    /// The job runs on while its output is dropped, and the last 64 KiB of what was dropped are stored when the hour
    /// ends, with a <c>log_truncated</c> event: <c>truncate</c>.
    /// </summary>
    public static bool KeepsTail(this LogQuotaAction action) => action is LogQuotaAction.Truncate;
}

/// <summary>Who wrote a log event.</summary>
public enum LogSource
{
    /// <summary>The job's own output (stdout, stderr and every child process's, merged as a terminal shows them).</summary>
    Stdout,

    /// <summary>A marker line the runner wrote itself (a quota warning, "quota reached", a drop report); never counted.</summary>
    Runner,
}

/// <summary>
/// A job's quota at a glance (SPEC §2 "visibility"): the <c>log_quota</c> block of the runner's pull and of the
/// server's run rows and details.
/// </summary>
/// <param name="Limit">Stored log bytes allowed per one-hour bucket; null when unlimited.</param>
/// <param name="Action">What happens at the crossing.</param>
/// <param name="UsedBytesHour">Stored (counted) bytes in the current bucket; markers are never counted.</param>
/// <param name="BucketStartedAt">When the current bucket began (wall clock; buckets are measured on a monotonic clock from the job's start).</param>
/// <param name="BucketResetsAt">When the current bucket ends and the count resets.</param>
/// <param name="DroppedBytes">Bytes of job output not stored because of the quota, over the job's whole life (<c>truncate</c>; for <c>kill</c>, what was cut at the crossing and read during the grace).</param>
/// <param name="ExceededAt">When the quota was last crossed; null if it never was.</param>
/// <param name="Report">The evidence of the last bucket that crossed; null if none did.</param>
public sealed partial record LogQuotaStatus(
    long? Limit,
    LogQuotaAction Action,
    long UsedBytesHour,
    DateTimeOffset BucketStartedAt,
    DateTimeOffset BucketResetsAt,
    long DroppedBytes,
    DateTimeOffset? ExceededAt,
    LogQuotaReport? Report);

/// <summary>
/// What filled a bucket that crossed its quota, kept in bounded memory whatever the job writes (SPEC §2 "evidence").
/// </summary>
/// <param name="BucketStartedAt">When the bucket began.</param>
/// <param name="TopLines">The most repeated lines of the bucket (at most 5), most frequent first; counts are estimates that never undercount by more than <c>error</c>.</param>
/// <param name="BytesPerMinute">Bytes of job output per minute of the bucket, minute 0 first, up to the last minute with output (at most 60 entries).</param>
/// <param name="DroppedBytes">Bytes of this bucket not stored.</param>
/// <param name="DroppedLines">Lines of this bucket not stored.</param>
public sealed partial record LogQuotaReport(
    DateTimeOffset BucketStartedAt,
    IReadOnlyList<RepeatedLine> TopLines,
    IReadOnlyList<long> BytesPerMinute,
    long DroppedBytes,
    long DroppedLines);

/// <summary>One of a bucket's most repeated lines.</summary>
/// <param name="Line">The line's text (its first 200 bytes, as UTF-8 with invalid bytes replaced).</param>
/// <param name="Count">How many times it was written in the bucket (an estimate; see <paramref name="Error"/>).</param>
/// <param name="Error">The most <paramref name="Count"/> may overcount by (0 when exact).</param>
public sealed record RepeatedLine(string Line, long Count, long Error);

/// <summary>Something that happened to a job that is neither a state nor a log line (SPEC §4 <c>events</c>).</summary>
/// <param name="Timestamp">Milliseconds since the Unix epoch, in the job's one strictly increasing sequence with states and logs.</param>
/// <param name="Type">One of <see cref="JobEventTypes"/>: <c>log_quota_warning</c>, <c>log_quota_exceeded</c>, <c>log_truncated</c>, <c>log_stalled</c>, <c>log_resumed</c>, <c>disk_quota_exceeded</c>.</param>
/// <param name="Message">What happened, in words, with the numbers.</param>
public sealed record JobEvent(long Timestamp, string Type, string Message);

/// <summary>The event types of SPEC §4 <c>events</c>.</summary>
public static class JobEventTypes
{
    /// <summary>A warning threshold of the quota was reached in a bucket.</summary>
    public const string LogQuotaWarning = "log_quota_warning";

    /// <summary>A bucket crossed the quota (any action).</summary>
    public const string LogQuotaExceeded = "log_quota_exceeded";

    /// <summary>A bucket's dropped output was reported (<c>truncate</c>): how much, and its tail stored.</summary>
    public const string LogTruncated = "log_truncated";

    /// <summary>A user asked to stop the run.</summary>
    public const string StopRequested = "stop_requested";

    /// <summary>The server gave up on the job's runner.</summary>
    public const string RunnerUnreachable = "runner_unreachable";

    /// <summary>A runner given up on answered again: the job was stopped and deleted there (SPEC §6 reconciliation).</summary>
    public const string RunnerReturned = "runner_returned";

    /// <summary>The server could not store what it pulled (its database full, locked or read-only) and backs off.</summary>
    public const string PullStalled = "pull_stalled";

    /// <summary>The runner's disk had no room for the job's log (<c>ENOSPC</c>, <c>EDQUOT</c>): reading its output pauses, nothing is dropped.</summary>
    public const string LogStalled = "log_stalled";

    /// <summary>A <see cref="LogStalled"/> ended: space returned and what was held is stored, or the job was ended by force and it was dropped.</summary>
    public const string LogResumed = "log_resumed";

    /// <summary>The job waits in the Slurm queue (the runner's <c>slurm</c> executor): the message names Slurm's job id and its pending reason.</summary>
    public const string SlurmPending = "slurm_pending";

    /// <summary>Slurm gave the job its allocation (the runner's <c>slurm</c> executor): the message names Slurm's job id and node.</summary>
    public const string SlurmStarted = "slurm_started";

    /// <summary>The job's files passed the runner's per-job disk limit (<c>DSTACK_RUNNER_JOB_DISK_MAX</c>); it is killed.</summary>
    public const string DiskQuotaExceeded = "disk_quota_exceeded";

    /// <summary>The job's section markers passed a bound (sections per job, nesting depth): later ones past it make no fold.</summary>
    public const string LogSectionsLimited = "log_sections_limited";
}
