using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// How a fault of one job is kept in that job (SPEC §7): every job thread and timer body runs guarded, because an
/// unhandled exception on any thread ends the whole process, and with it the runner and every other job.
/// </summary>
internal static class JobFaults
{
    /// <summary>Runs <paramref name="body"/>; an exception is logged and handed to <paramref name="endJob"/> as the job's final message.</summary>
    public static void Guarded(ILogger logger, Guid jobId, string what, Action body, Action<string> endJob)
    {
        try
        {
            body();
        }
        catch (Exception e)
        {
            logger.LogError(e, "Job {JobId}: its {Thread} work failed", jobId, what);
            try
            {
                endJob($"runner fault in the job's {what} work: {e.Message}");
            }
            catch (Exception inner)
            {
                logger.LogError(inner, "Job {JobId}: ending it after a fault failed too", jobId);
            }
        }
    }

    /// <summary>
    /// A one-shot timer of a job whose body runs <see cref="Guarded"/>: every job timer is made here, so none can end the
    /// runner (a quota kill's grace once ran without the guard).
    /// </summary>
    public static ITimer StartTimer(TimeProvider time, TimeSpan dueTime, ILogger logger, Guid jobId, string what, Action body, Action<string> endJob)
    {
        ArgumentNullException.ThrowIfNull(time);
        return time.CreateTimer(_ => Guarded(logger, jobId, what, body, endJob), null, dueTime, Timeout.InfiniteTimeSpan);
    }

    /// <summary>"No space left on device": the errno text; .NET puts the raw errno in an IOException's HResult on Unix.</summary>
    public static string Describe(IOException e) =>
        e.HResult is > 0 and < 4096 ? Native.Describe(e.HResult) : e.Message;
}
