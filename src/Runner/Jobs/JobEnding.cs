using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// Why a job is being ended before it ends by itself: a stop, its disk limit, its log quota under <c>kill</c>, or a fault
/// of the runner. A job holds at most one; null while it runs its course. Its final state is recorded only once its
/// process is reaped and its output drained, after the last stored line.
/// </summary>
/// <remarks>
/// A stop or a disk kill is decided only while nothing else is; a quota kill or a fault takes the place of either, since
/// from then on the job's output is dropped and that is what its final state must say; neither replaces the other.
/// </remarks>
internal abstract record JobEnding
{
    /// <summary>The job's output is read and dropped from now on (a quota kill, a fault).</summary>
    public virtual bool DropsOutput => false;

    /// <summary>The job's end is failed from this instant for pulls and metrics, before its final state is recorded.</summary>
    public virtual bool Fails => true;

    /// <summary>The final state this ending gives the job; <paramref name="exitStatus"/> is its main process's.</summary>
    public abstract JobStateEvent FinalState(long timestamp, int exitStatus);

    /// <summary>Whether <paramref name="next"/> is what the job records, given <paramref name="current"/> (see the remarks).</summary>
    public static bool Replaces(JobEnding next, JobEnding? current) =>
        current is null || (next.DropsOutput && !current.DropsOutput);
}

/// <summary>Stopped by the server or the user, or for its maximum duration: SIGTERM, SIGKILL after the grace; ends <c>terminated</c>.</summary>
internal sealed record JobStopped(TerminationReason Reason, string Message) : JobEnding
{
    public override bool Fails => false;

    public override JobStateEvent FinalState(long timestamp, int exitStatus) =>
        new(JobState.Terminated, timestamp, Reason, Message);
}

/// <summary>Its files passed <c>DSTACK_RUNNER_JOB_DISK_MAX</c>: killed whole, its output still stored until it is gone.</summary>
internal sealed record JobDiskKilled(long Used, long Limit) : JobEnding
{
    public override JobStateEvent FinalState(long timestamp, int exitStatus) =>
        new(JobState.Failed, timestamp, TerminationReason.DiskQuotaExceeded,
            $"The job's files took {Used} bytes, over its disk limit of {Limit} bytes");
}

/// <summary>It crossed its hourly log quota under <c>kill</c>: killed (or SIGTERM, then SIGKILL after its grace).</summary>
internal sealed record JobQuotaKilled(long? Limit) : JobEnding
{
    public override bool DropsOutput => true;

    public override JobStateEvent FinalState(long timestamp, int exitStatus) =>
        new(JobState.Failed, timestamp, TerminationReason.LogQuotaExceeded,
            $"Job log output exceeded the hourly quota of {Limit} bytes");
}

/// <summary>The runner cannot carry it on (a spool write failed other than for room, a job thread threw).</summary>
internal sealed record JobFaulted(string Message) : JobEnding
{
    public override bool DropsOutput => true;

    public override JobStateEvent FinalState(long timestamp, int exitStatus) =>
        new(JobState.Failed, timestamp, TerminationReason.ExecutorError, Message);
}
