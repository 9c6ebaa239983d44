using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>A job: what to run, where it runs, how far its logs have been pulled, and how it ended.</summary>
public sealed class JobEntity
{
    public Guid Id { get; set; }

    public Guid RunId { get; set; }

    public RunEntity Run { get; set; } = null!;

    /// <summary>The run's project, kept on the job too: the project's active runs are found from the jobs' status.</summary>
    public Guid ProjectId { get; set; } = ProjectEntity.MainId;

    /// <summary>The spec sent to the runner, <c>log_quota_hour</c> (the effective quota) included; stored as JSON.</summary>
    public required JobSpec Spec { get; set; }

    /// <summary><see cref="JobSpec.CodeHash"/> as a column of its own: code a job refers to is never garbage-collected.</summary>
    public string? CodeHash { get; set; }

    public JobStatus Status { get; set; }

    public TerminationReason? TerminationReason { get; set; }

    public string? TerminationMessage { get; set; }

    public int? ExitStatus { get; set; }

    /// <summary>Base URL of the runner the job was assigned to; null while it waits for one.</summary>
    public string? Runner { get; set; }

    /// <summary>The runner timestamp (ms) of the newest event stored; the next pull asks for events after it.</summary>
    public long RunnerTimestamp { get; set; }

    /// <summary>
    /// Stored log bytes in the job's current hourly bucket, as the runner last reported: its quota block's count, stored
    /// once, there (0 before the first block).
    /// </summary>
    public long LogBytesHour => LogQuota?.UsedBytesHour ?? 0;

    /// <summary>
    /// The job's live region as of the latest stored pull: the lines still on the runner's screen that the program
    /// may redraw (SPEC §2), UTF-8, <c>\n</c>-separated. Replaced with every stored page, null once the job has
    /// ended. Shown only: never a log event, never counted in <see cref="LogBytesHour"/>.
    /// </summary>
    public byte[]? Live { get; set; }

    /// <summary>The runner's <c>log_quota</c> block as of the latest stored pull (stored as JSON); null before the first.</summary>
    public LogQuotaStatus? LogQuota { get; set; }

    public DateTimeOffset SubmittedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    /// <summary>A user asked to stop the job; the processor forwards it to the runner.</summary>
    public bool StopRequested { get; set; }

    /// <summary>Why the server stops the job when not for a user: <c>log_budget_exceeded</c>; null for a user's stop.</summary>
    public TerminationReason? StopReason { get; set; }

    /// <summary>
    /// The hour (server clock) in which the project's budget stopped storing this job's output (<c>kill</c>, <c>truncate</c>):
    /// its output of that hour is dropped; null while it is stored.
    /// </summary>
    public DateTimeOffset? BudgetDroppingHour { get; set; }

    /// <summary>Bytes of job output dropped by the project's budget in <see cref="BudgetDroppingHour"/>.</summary>
    public long BudgetDroppedBytes { get; set; }

    /// <summary>Lines of job output dropped by the project's budget in <see cref="BudgetDroppingHour"/>.</summary>
    public long BudgetDroppedLines { get; set; }

    /// <summary>The runner accepted the stop request.</summary>
    public bool StopSent { get; set; }

    /// <summary>The runner has forgotten the job (or was given up on): nothing is left to pull or delete there.</summary>
    public bool RunnerReleased { get; set; }

    /// <summary>
    /// <see cref="Runner"/> is the local runner of the replica that assigned the job: only that replica can reach it,
    /// and it dies with it (LOCKING.md). False for a runner of <c>DSTACK_SERVER_RUNNERS</c>, which every replica shares.
    /// </summary>
    public bool EmbeddedRunner { get; set; }

    /// <summary>The replica processing the job (PostgreSQL only; LOCKING.md); null when none holds it. It holds the job
    /// for as long as its <see cref="ReplicaLeaseEntity"/> has not run out: a job has no expiry of its own.</summary>
    public string? LeaseOwner { get; set; }
}
