using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Apis;

/// <summary>From stored runs and jobs to what the API shows.</summary>
internal static class RunViews
{
    /// <param name="run">The run with its jobs.</param>
    /// <param name="waiting">The message of its latest Slurm event (<see cref="WaitingEvents"/>), shown while its job is provisioning.</param>
    public static RunRow ToRow(RunEntity run, string? waiting = null)
    {
        var job = run.Jobs.OrderBy(j => j.SubmittedAt).First();
        var status = ShownStatus(job);
        var view = JobStatusMapping.Describe(status, job.TerminationReason, job.ExitStatus);
        return new RunRow(
            run.RunName, JobStatusMapping.ToRunStatus(status), view.StatusMessage, view.Error, job.TerminationReason,
            job.TerminationMessage, job.ExitStatus, run.SubmittedAt, job.FinishedAt, job.Spec.LogQuotaHour, job.LogBytesHour,
            LogTruncated(job), job.LogQuota, job.Status == JobStatus.Provisioning ? waiting : null);
    }

    /// <summary>The run events that say what a provisioning job waits for: Slurm's job id and pending reason, then its start.</summary>
    public static readonly string[] WaitingEvents = [JobEventTypes.SlurmPending, JobEventTypes.SlurmStarted];

    /// <summary>The run with its jobs and <paramref name="events"/> (loaded by the caller: a list of runs never needs them), as <paramref name="viewer"/> may see it.</summary>
    public static RunDetails ToDetails(RunEntity run, IEnumerable<RunEventEntity> events, Caller viewer)
    {
        var author = IsAuthor(run, viewer);
        var ordered = events.OrderBy(e => e.Timestamp).ThenBy(e => e.Id).ToList();
        var row = ToRow(run, ordered.LastOrDefault(e => WaitingEvents.Contains(e.Type))?.Message);
        return new RunDetails(
            row.RunName, row.Status, row.StatusMessage, row.Error, row.TerminationReason, row.TerminationMessage,
            row.ExitStatus, row.SubmittedAt, row.FinishedAt, row.LogQuotaHour, row.LogBytesHour, row.LogTruncated, row.LogQuota,
            [.. run.Jobs.OrderBy(j => j.SubmittedAt).Select(j => ToDetails(j, author))],
            [.. ordered.Select(e => new RunEvent(e.Timestamp, e.Type, e.Message))], row.Waiting);
    }

    /// <summary>SPEC §2 "statuses": a truncate that dropped output marks the row; its error stays what the ending says.</summary>
    private static bool LogTruncated(JobEntity job) =>
        job.LogQuota is { DroppedBytes: > 0 } quota && quota.Action.KeepsTail();

    /// <summary>
    /// Whether <paramref name="viewer"/> submitted the run: only its author sees the values of its own <c>env</c>, which
    /// often hold keys the author did not make secrets. A run from before runs had authors has none.
    /// </summary>
    public static bool IsAuthor(RunEntity run, Caller viewer)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(viewer);
        return viewer.UserId is { } id
            ? run.SubmittedById == id
            : run.SubmittedById is null && run.SubmittedBy == viewer.Name; // the bootstrap admin, who is no stored user
    }

    /// <summary>Every value of <paramref name="spec"/>'s <c>env</c> as <c>***</c>, its names as they are.</summary>
    public static JobSpec WithoutEnvValues(JobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Env is { Count: > 0 } env ? spec with { Env = env.ToDictionary(e => e.Key, _ => "***", StringComparer.Ordinal) } : spec;
    }

    private static JobDetails ToDetails(JobEntity job, bool author)
    {
        var status = ShownStatus(job);
        var view = JobStatusMapping.Describe(status, job.TerminationReason, job.ExitStatus);
        return new JobDetails(
            job.Id, status, view.StatusMessage, view.Error, job.TerminationReason, job.TerminationMessage,
            job.ExitStatus, job.Runner, author ? job.Spec : WithoutEnvValues(job.Spec));
    }

    /// <summary>A stop the processor has not forwarded yet already shows as <c>terminating</c>.</summary>
    private static JobStatus ShownStatus(JobEntity job) =>
        job.StopRequested && job.Status is JobStatus.Provisioning or JobStatus.Running ? JobStatus.Terminating : job.Status;
}
