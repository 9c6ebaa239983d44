using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;

namespace LogQuota.Server.Processing;

/// <summary>How a job ends on the server: its final status, and the reason and message the user reads.</summary>
/// <param name="Status">A final status.</param>
/// <param name="Reason">Why; null for <see cref="JobStatus.Done"/>.</param>
/// <param name="Message">What happened, in the user's words.</param>
internal sealed record JobEnd(JobStatus Status, TerminationReason? Reason, string? Message)
{
    /// <summary>A stop asked for before any runner ran the job.</summary>
    public static JobEnd StoppedBeforeStart { get; } = new(JobStatus.Terminated, TerminationReason.TerminatedByUser, "Stopped by the user before it started");

    /// <summary>The job crossed its project's hourly log budget under <c>kill</c>: it failed for that, whether the server's stop reached it or it ended first.</summary>
    public static JobEnd LogBudgetExceeded { get; } =
        new(JobStatus.Failed, TerminationReason.LogBudgetExceeded, "Job log output crossed its project's hourly log budget");

    /// <summary>The job cannot go on for a reason of the runner or the server (refused, code gone, runner gone).</summary>
    public static JobEnd ExecutorError(string message) => new(JobStatus.Failed, TerminationReason.ExecutorError, message);
}

/// <summary>
/// The one place the server ends a job and releases it from its runner. Like Hangfire's state changer, an ending
/// names the state it expects and changes nothing when the job is in another (it ended meanwhile, or was claimed);
/// the caller learns which from the result.
/// </summary>
internal static class JobEnding
{
    /// <summary>
    /// Ends <paramref name="job"/> with <paramref name="end"/> at <paramref name="at"/> when its status is
    /// <paramref name="expected"/> (when null: any status that is not final). Its live region goes: an ended job shows
    /// only stored lines. False, and nothing changed, when the job is not in the expected state.
    /// </summary>
    public static bool TryEnd(this JobEntity job, JobEnd end, DateTimeOffset at, JobStatus? expected = null)
    {
        if (job.Status.IsFinal() || (expected is { } status && job.Status != status))
        {
            return false;
        }

        job.Status = end.Status;
        job.TerminationReason = end.Reason;
        job.TerminationMessage = end.Message;
        job.FinishedAt = at;
        job.Live = null;
        return true;
    }

    /// <summary>
    /// Nothing more is asked of the job's runner: it forgot the job (deleted), never had it, or was given up on.
    /// The processor leaves a released job alone, and log retention may delete it once it has ended.
    /// </summary>
    public static void Release(this JobEntity job)
    {
        job.RunnerReleased = true;
        job.Live = null;
    }

    /// <summary>
    /// The same ending in one conditional statement, for a job no runner holds, checked and ended in the database
    /// so that a processor claiming it at the same moment makes this change nothing. The number of jobs ended.
    /// </summary>
    public static Task<int> TryEndAsync(
        IQueryable<JobEntity> job, JobEnd end, DateTimeOffset at, JobStatus expected, Action<UpdateSettersBuilder<JobEntity>> alsoSet, CancellationToken cancellationToken) =>
        job.Where(j => j.Status == expected).ExecuteUpdateAsync(
            s =>
            {
                s.SetProperty(j => j.Status, end.Status)
                    .SetProperty(j => j.TerminationReason, end.Reason)
                    .SetProperty(j => j.TerminationMessage, end.Message)
                    .SetProperty(j => j.FinishedAt, at)
                    .SetProperty(j => j.Live, (byte[]?)null);
                alsoSet(s);
            },
            cancellationToken);
}
