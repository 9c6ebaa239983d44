using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Processing;

/// <summary>
/// What one page of a job's events (a per-job pull's answer, or the job's part of a runner's stream) changes in the job's
/// row and its run's events: the one place a pulled page is applied, whichever way it came. The caller stores the
/// page's log events and commits, in one transaction with these changes.
/// </summary>
internal static class JobPage
{
    /// <summary>Characters of an event message kept (the column's limit); the runner's are far shorter.</summary>
    private const int MaxEventMessage = 2048;

    /// <summary>True when the page changes anything stored: an unchanged screen or quota is no reason to write.</summary>
    public static bool HasNews(JobEntity job, PullResponse response, long lastUpdated) =>
        response.JobLogs.Count > 0 || response.JobStates.Count > 0 || lastUpdated != job.RunnerTimestamp ||
        !LiveEquals(job, response.Live) || !QuotaEquals(job.LogQuota, PulledQuota(job, response));

    /// <summary>A page of lines, a position, a quota block and a live region only: nothing but the job's row changes.</summary>
    public static bool IsPlain(PullResponse page) =>
        page.JobStates.Count == 0 && page.JobEvents is not { Count: > 0 } && page.LogSections is not { Count: > 0 };

    /// <summary>
    /// The part of <paramref name="response"/> after what is stored already (<see cref="JobEntity.RunnerTimestamp"/>): a
    /// page answered again after a commit that did not happen, or from an earlier position, repeats nothing.
    /// </summary>
    public static PullResponse After(JobEntity job, PullResponse response)
    {
        var stored = job.RunnerTimestamp;
        if (response.JobLogs.All(l => l.Timestamp > stored) && response.JobStates.All(s => s.Timestamp > stored) &&
            (response.JobEvents ?? []).All(e => e.Timestamp > stored) && (response.LogSections ?? []).All(m => m.Timestamp > stored))
        {
            return response;
        }

        return response with
        {
            JobLogs = [.. response.JobLogs.Where(l => l.Timestamp > stored)],
            JobStates = [.. response.JobStates.Where(s => s.Timestamp > stored)],
            JobEvents = [.. (response.JobEvents ?? []).Where(e => e.Timestamp > stored)],
            LogSections = [.. (response.LogSections ?? []).Where(m => m.Timestamp > stored)],
        };
    }

    /// <summary>
    /// Applies the page's states, position, quota block, live region and quota events to the tracked job; after the page
    /// was charged to its project's log budget, which may have decided the job's end.
    /// </summary>
    public static void Apply(ServerDbContext db, JobEntity job, PullResponse response, long lastUpdated, ILogger logger)
    {
        foreach (var state in response.JobStates.OrderBy(s => s.Timestamp))
        {
            ApplyState(job, state, logger);
        }

        job.RunnerTimestamp = lastUpdated;
        job.LogQuota = PulledQuota(job, response);

        // The runner's quota events (warnings, crossings, drop reports) are the run's events; they commit with the
        // page that carried them, so a restarted server neither loses nor repeats one.
        foreach (var e in response.JobEvents ?? [])
        {
            db.RunEvents.Add(new RunEventEntity
            {
                RunId = job.RunId, Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), Type = e.Type, Message = Bounded(e.Message),
            });
        }

        Logs.LogSectionMarks.Add(db, job.Id, response.LogSections);

        // The live region is what the runner's screen showed when it answered this page: shown, never stored as
        // events or counted. It commits with the page, so it never runs ahead of the stored lines it sits below,
        // and an ended job has none (its last lines arrive as stored events).
        job.Live = job.Status.IsFinal() || response.Live is not { Length: > 0 } ? null : response.Live;
    }

    private static void ApplyState(JobEntity job, JobStateEvent state, ILogger logger)
    {
        if (job.Status.IsFinal())
        {
            return;
        }

        var status = JobStatusMapping.FromRunnerState(state.State);
        switch (status)
        {
            case JobStatus.Running when job.Status is JobStatus.Terminating:
                // A stop is on its way; the runner's earlier "running" does not undo it.
                return;
            case JobStatus.Done or JobStatus.Failed or JobStatus.Terminated:
                // A job that crossed its project's log budget under kill (ProjectBudgets) failed for it, as a job killed at its
                // own quota does, whether the server's stop reached it or it ended first.
                var budgetKilled = job.StopReason == TerminationReason.LogBudgetExceeded;
                job.TryEnd(budgetKilled ? JobEnd.LogBudgetExceeded : new JobEnd(status, state.TerminationReason, state.TerminationMessage),
                    DateTimeOffset.FromUnixTimeMilliseconds(state.Timestamp));
                job.ExitStatus = budgetKilled ? null : state.ExitStatus;
                logger.LogInformation("Job {JobId} ended {Status}: {Outcome}", job.Id, status, JobStatusMapping.Describe(state));
                return;
        }

        job.Status = status;
    }

    private static bool LiveEquals(JobEntity job, byte[]? live) =>
        job.Live is null ? live is null : live is not null && job.Live.AsSpan().SequenceEqual(live);

    /// <summary>
    /// The quota block to store: the runner's, whose <c>used_bytes_hour</c> is the job's one stored count of
    /// <c>log_bytes_hour</c>; a page without one (never from a runner of this version) updates the count of the stored one.
    /// </summary>
    private static LogQuotaStatus? PulledQuota(JobEntity job, PullResponse response) =>
        response.LogQuota ?? (job.LogQuota is { } stored ? stored with { UsedBytesHour = response.LogBytesHour } : null);

    /// <summary>True when the quota block is what is stored already (or the runner sent none).</summary>
    private static bool QuotaEquals(LogQuotaStatus? stored, LogQuotaStatus? pulled) => pulled is null || pulled == stored;

    private static string Bounded(string message) => message.Length <= MaxEventMessage ? message : message[..(MaxEventMessage - 1)] + "…";
}
