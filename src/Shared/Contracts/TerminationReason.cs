namespace LogQuota.Shared.Contracts;

/// <summary>Why a job ended other than by exiting 0 (SPEC §3, §4).</summary>
public enum TerminationReason
{
    /// <summary>The job's main process exited with a non-zero status.</summary>
    ContainerExitedWithError,

    /// <summary>The runner could not start or supervise the job.</summary>
    ExecutorError,

    /// <summary>The job ran past its <c>max_duration</c>.</summary>
    MaxDurationExceeded,

    /// <summary>The job's stored log output exceeded its hourly quota; it was killed.</summary>
    LogQuotaExceeded,

    /// <summary>The server stopped the job.</summary>
    TerminatedByServer,

    /// <summary>A user stopped the run.</summary>
    TerminatedByUser,

    /// <summary>The kernel killed a process of the job for passing its memory limit (<c>DSTACK_RUNNER_JOB_MEMORY_MAX</c>).</summary>
    OutOfMemory,

    /// <summary>The job's files passed the runner's per-job disk limit (<c>DSTACK_RUNNER_JOB_DISK_MAX</c>); it was killed.</summary>
    DiskQuotaExceeded,

    /// <summary>Set by the server only: the job's runner did not answer for longer than the unreachable timeout.</summary>
    InstanceUnreachable,

    /// <summary>Set by the server only: the job's output crossed its project's hourly log budget under <c>kill</c>; the server stopped it.</summary>
    LogBudgetExceeded,
}
