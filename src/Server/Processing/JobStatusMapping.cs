using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Processing;

/// <summary>What <c>ps</c> shows for a job: <c>status_message</c> and <c>error</c>.</summary>
/// <param name="StatusMessage"><c>running</c>, <c>exited (N)</c>, <c>error</c>, <c>stopped</c>, ...</param>
/// <param name="Error">Why it failed, in words, or null.</param>
public sealed record StatusView(string StatusMessage, string? Error);

/// <summary>The SPEC §4 table: from the runner's state to the job's status, and from a job to what <c>ps</c> shows.</summary>
public static class JobStatusMapping
{
    /// <summary>The job status for a state the runner reported.</summary>
    public static JobStatus FromRunnerState(JobState state) => state switch
    {
        JobState.Running => JobStatus.Running,
        JobState.Terminating => JobStatus.Terminating,
        JobState.Done => JobStatus.Done,
        JobState.Failed => JobStatus.Failed,
        JobState.Terminated => JobStatus.Terminated,
        _ => throw new ArgumentOutOfRangeException(nameof(state), state, "Unknown runner state."),
    };

    /// <summary>True for the statuses after which nothing more happens to the job.</summary>
    public static bool IsFinal(this JobStatus status) =>
        status is JobStatus.Done or JobStatus.Failed or JobStatus.Terminated or JobStatus.Aborted;

    /// <summary>The run's status, from its (single) job's.</summary>
    public static RunStatus ToRunStatus(JobStatus status) => status switch
    {
        // A new run is submitted, as in dstack, from its POST on, whether or not a runner has it yet.
        JobStatus.Submitted or JobStatus.Provisioning => RunStatus.Submitted,
        JobStatus.Running => RunStatus.Running,
        JobStatus.Terminating => RunStatus.Terminating,
        JobStatus.Terminated or JobStatus.Aborted => RunStatus.Terminated,
        JobStatus.Failed => RunStatus.Failed,
        JobStatus.Done => RunStatus.Done,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown job status."),
    };

    /// <summary>The <c>status_message</c> and <c>error</c> of a job (SPEC §4).</summary>
    public static StatusView Describe(JobStatus status, TerminationReason? reason, int? exitStatus) => (status, reason) switch
    {
        (JobStatus.Done, _) => new($"exited ({exitStatus ?? 0})", null),
        (JobStatus.Failed, null or TerminationReason.ContainerExitedWithError) =>
            exitStatus is { } code ? new($"exited ({code})", null) : new("error", null),
        (JobStatus.Failed, { } why) => new("error", InWords(why)),
        (JobStatus.Terminated, TerminationReason.TerminatedByUser) => new("stopped", null),
        (JobStatus.Terminated, null or TerminationReason.TerminatedByServer) => new("terminated", null),
        (JobStatus.Terminated, { } why) => new("terminated", InWords(why)),
        (JobStatus.Aborted, _) => new("aborted", reason is { } why ? InWords(why) : null),
        _ => new(status.ToString().ToLowerInvariant(), null),
    };

    /// <summary><c>log_quota_exceeded</c> → <c>log quota exceeded</c>.</summary>
    public static string InWords(TerminationReason reason) => reason switch
    {
        TerminationReason.ContainerExitedWithError => "container exited with error",
        TerminationReason.ExecutorError => "executor error",
        TerminationReason.MaxDurationExceeded => "max duration exceeded",
        TerminationReason.LogQuotaExceeded => "log quota exceeded",
        TerminationReason.TerminatedByServer => "terminated by server",
        TerminationReason.TerminatedByUser => "terminated by user",
        TerminationReason.InstanceUnreachable => "instance unreachable",
        TerminationReason.OutOfMemory => "out of memory",
        TerminationReason.DiskQuotaExceeded => "disk quota exceeded",
        TerminationReason.LogBudgetExceeded => "log budget exceeded",
        _ => reason.ToString(),
    };

    /// <summary>
    /// How a final state reads in a log line, with only what is known: "exit status 0",
    /// "log quota exceeded: Job log output exceeded the hourly quota of 100 bytes" (never "(null)").
    /// </summary>
    public static string Describe(JobStateEvent state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var parts = new List<string>(3);
        if (state.TerminationReason is { } reason)
        {
            parts.Add(InWords(reason));
        }

        if (state.ExitStatus is { } exitStatus)
        {
            parts.Add($"exit status {exitStatus}");
        }

        var head = parts.Count > 0 ? string.Join(", ", parts) : "no reason given";
        return string.IsNullOrWhiteSpace(state.TerminationMessage) ? head : $"{head}: {state.TerminationMessage}";
    }
}
