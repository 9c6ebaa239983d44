using System.Globalization;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Slurm;

/// <summary>
/// One job's Slurm allocation once granted: the local <c>srun --pty</c> step is the process the runner supervises, and
/// every signal and kill goes to Slurm first (<c>scancel --full</c>: every step, every node), then to that process.
/// </summary>
internal sealed class SlurmAllocation(SlurmExecutor executor, Guid jobId, long slurmJobId, string srunErrors, ILogger logger) : IExternalJob
{
    /// <summary>How long an ending Slurm job may show COMPLETING before its final state is read: Slurm's KillWait (default 30 s) and a little.</summary>
    private static readonly TimeSpan CompletingWait = TimeSpan.FromSeconds(40);

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

        // A job Slurm is ending shows COMPLETING (its steps being killed) and only then why it ended: seconds (KillWait).
        var started = executor.Time.GetTimestamp();
        SlurmAnswer answer;
        string? state;
        while (true)
        {
            answer = SlurmCommands.Run("scontrol", ["-o", "show", "job", slurmJobId.ToString(CultureInfo.InvariantCulture)]);
            state = answer.Succeeded ? SlurmEndings.Field(answer.Output, "JobState") : null;
            if (state != "COMPLETING" || executor.Time.GetElapsedTime(started) > CompletingWait)
            {
                break;
            }

            Thread.Sleep(200);
        }

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
