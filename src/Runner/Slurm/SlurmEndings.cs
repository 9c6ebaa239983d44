using LogQuota.Runner.Execution;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Slurm;

/// <summary>
/// How Slurm's own endings of a job read in LogQuota's terms: its time limit is the run's <c>max_duration</c>, its
/// memory limit the out-of-memory reason the local executor uses, and a node failure, a preemption or a cancel by
/// someone else an executor error with Slurm's word in the message. A job Slurm still shows running ended by its
/// step's exit status, unless <c>srun</c> reported that Slurm's cgroup killed it for memory.
/// </summary>
internal static class SlurmEndings
{
    /// <summary>The ending for job <paramref name="slurmJobId"/> in <paramref name="jobState"/> (<c>scontrol</c>'s <c>JobState</c>), given what srun wrote to its own stderr.</summary>
    public static ExternalEnding? Of(long slurmJobId, string? jobState, string srunErrors)
    {
        ArgumentNullException.ThrowIfNull(srunErrors);
        switch (jobState)
        {
            case "TIMEOUT" or "DEADLINE":
                return new ExternalEnding(JobState.Terminated, TerminationReason.MaxDurationExceeded,
                    $"Max duration exceeded: Slurm ended job {slurmJobId} at its time limit ({jobState})");
            case "OUT_OF_MEMORY":
                return OutOfMemory(slurmJobId);
            case "NODE_FAIL" or "PREEMPTED" or "CANCELLED" or "BOOT_FAIL" or "FAILED":
                return new ExternalEnding(JobState.Failed, TerminationReason.ExecutorError,
                    $"Slurm ended job {slurmJobId}: {jobState}{(jobState == "CANCELLED" ? " (cancelled outside LogQuota)" : "")}");
        }

        // With the allocation still held, only the step ended: srun names a task killed by Slurm's memory cgroup.
        return srunErrors.Contains("Out Of Memory", StringComparison.Ordinal) ? OutOfMemory(slurmJobId) : null;
    }

    private static ExternalEnding OutOfMemory(long slurmJobId) =>
        new(JobState.Failed, TerminationReason.OutOfMemory, $"Slurm killed job {slurmJobId} for passing its memory limit (OUT_OF_MEMORY)");

    /// <summary>The value of <paramref name="key"/> in one line of <c>scontrol -o show job</c> (<c>JobState=RUNNING Reason=None ...</c>).</summary>
    public static string? Field(string scontrolLine, string key)
    {
        ArgumentNullException.ThrowIfNull(scontrolLine);
        foreach (var part in scontrolLine.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (part.StartsWith(key + "=", StringComparison.Ordinal))
            {
                return part[(key.Length + 1)..];
            }
        }

        return null;
    }
}
