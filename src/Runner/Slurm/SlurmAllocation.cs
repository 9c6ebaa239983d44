using System.Globalization;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Slurm;

/// <summary>
/// One job's Slurm allocation once granted: the local <c>srun --pty</c> step is the process the runner supervises, and
/// every signal and kill goes to Slurm first (<c>scancel --full</c>: every step, every node), then to that process.
/// </summary>
internal sealed class SlurmAllocation(SlurmExecutor executor, Guid jobId, long slurmJobId, string srunErrors, ILogger logger) : IExternalJob
{
    private int _cancelled;

    public long SlurmJobId => slurmJobId;

    /// <summary>The file <c>srun</c>'s own messages go to (the job's output has the terminal): where it reports a task killed for memory.</summary>
    public string SrunErrors => srunErrors;

    public ExternalEnding? Ending { get; private set; }

    public void Signal(int signal)
    {
        if (signal == Native.SIGKILL)
        {
            Kill();
            return;
        }

        if (Volatile.Read(ref _cancelled) == 0)
        {
            executor.Signal(slurmJobId, signal);
        }
    }

    public void Kill()
    {
        if (Interlocked.Exchange(ref _cancelled, 1) != 0)
        {
            return;
        }

        var started = executor.Time.GetTimestamp();
        executor.Cancel(slurmJobId);
        logger.LogInformation("Job {JobId}: scancel --full of Slurm job {SlurmJobId} issued in {Milliseconds:F3} ms",
            jobId, slurmJobId, executor.Time.GetElapsedTime(started).TotalMilliseconds);
    }

    public void OnLocalExit()
    {
        if (Volatile.Read(ref _cancelled) != 0)
        {
            return; // ended by the runner: the runner's reason stands
        }

        var answer = SlurmCommands.Run("scontrol", ["-o", "show", "job", slurmJobId.ToString(CultureInfo.InvariantCulture)]);
        var state = answer.Succeeded ? SlurmEndings.Field(answer.Output, "JobState") : null;
        if (!answer.Succeeded)
        {
            logger.LogWarning("Job {JobId}: how Slurm ended job {SlurmJobId} is unknown ({Why}); its exit status decides", jobId, slurmJobId, answer.Why);
        }

        var errors = File.Exists(srunErrors) ? File.ReadAllText(srunErrors) : "";
        Ending = SlurmEndings.Of(slurmJobId, state, errors);
        if (Ending is not null)
        {
            logger.LogWarning("Job {JobId}: Slurm ended job {SlurmJobId}: {State}", jobId, slurmJobId, state ?? "step out of memory");
        }
    }
}
