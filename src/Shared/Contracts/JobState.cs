namespace LogQuota.Shared.Contracts;

/// <summary>State of a job as the runner reports it (SPEC §3).</summary>
public enum JobState
{
    /// <summary>The job's process is running.</summary>
    Running,

    /// <summary>A stop was requested; the job's processes are being terminated.</summary>
    Terminating,

    /// <summary>The job exited with status 0.</summary>
    Done,

    /// <summary>The job failed: non-zero exit, executor error or log quota exceeded.</summary>
    Failed,

    /// <summary>The job was stopped: by a user, the server or its max duration.</summary>
    Terminated,
}

/// <summary>Helpers for <see cref="JobState"/>.</summary>
public static class JobStateExtensions
{
    /// <summary>True for the states after which nothing more happens to the job.</summary>
    public static bool IsFinal(this JobState state) =>
        state is JobState.Done or JobState.Failed or JobState.Terminated;
}
