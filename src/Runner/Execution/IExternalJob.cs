using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Execution;

/// <summary>
/// A job whose processes another system places and contains (Slurm): the supervisor's own process is only its local
/// end (<c>srun --pty</c>), so every signal and kill goes to that system first, then to the local process.
/// </summary>
internal interface IExternalJob
{
    /// <summary>Sends <paramref name="signal"/> to every process of the job, wherever it runs. Never blocks on the other system.</summary>
    void Signal(int signal);

    /// <summary>Ends the job and all its processes in the other system. Never blocks on the other system: the call is issued, and retried until it lands.</summary>
    void Kill();

    /// <summary>Called once, after the local process exited and before the kill that follows it: learns how the other system ended the job.</summary>
    void OnLocalExit();

    /// <summary>How the other system ended the job (its time limit, memory, a node's failure, a cancel by someone else); null when it did not.</summary>
    ExternalEnding? Ending { get; }
}

/// <summary>An ending the other system decided, in LogQuota's terms.</summary>
internal sealed record ExternalEnding(JobState State, TerminationReason Reason, string Message);
