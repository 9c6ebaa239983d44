namespace LogQuota.Shared.Contracts;

/// <summary>Body of <c>PATCH /api/projects/{project}</c>: only the fields present change.</summary>
/// <param name="LogBudgetHour">Stored log bytes per hour summed over the project's jobs; 0 removes the budget.</param>
/// <param name="LogBudgetAction">What happens when the hour's budget is crossed: <c>kill</c>, <c>truncate</c> or <c>observe</c>.</param>
public sealed record UpdateProjectRequest(long? LogBudgetHour = null, LogQuotaAction? LogBudgetAction = null);

/// <summary>
/// A project's hourly log budget as of now (the <c>log_budget</c> block of <c>GET /api/projects/{project}</c>): the stored
/// log bytes of all its jobs, summed per hour of the server's clock (UTC, from the whole hour).
/// </summary>
/// <param name="Limit">Bytes allowed per hour; null when the project has no budget.</param>
/// <param name="Action">What happens at the crossing.</param>
/// <param name="UsedBytesHour">Stored job output of the project in the current hour; markers are never counted.</param>
/// <param name="HourStartedAt">When the current hour began.</param>
/// <param name="HourResetsAt">When it ends and the count resets.</param>
/// <param name="DroppedBytesHour">Job output of the current hour not stored because of the budget (<c>kill</c>, <c>truncate</c>).</param>
/// <param name="ExceededAt">When the current hour's budget was crossed; null if it was not.</param>
/// <param name="Report">The evidence of the last hour that crossed the budget (this one or an earlier one); null if none did.</param>
public sealed record ProjectBudgetStatus(
    long? Limit,
    LogQuotaAction Action,
    long UsedBytesHour,
    DateTimeOffset HourStartedAt,
    DateTimeOffset HourResetsAt,
    long DroppedBytesHour,
    DateTimeOffset? ExceededAt,
    ProjectBudgetReport? Report = null);

/// <summary>
/// What filled a project's hour that crossed its budget, kept in the database in bounded space whatever the jobs write:
/// the per-job quota's evidence (<see cref="LogQuotaReport"/>) summed over the project's jobs, with the run each line came
/// from, and the end of what the budget dropped.
/// </summary>
/// <param name="HourStartedAt">When the hour began.</param>
/// <param name="TopLines">The lines of the project's job output (stored or dropped) surely repeated most in the hour (at most 5), most frequent first.</param>
/// <param name="BytesPerMinute">Stored job output per minute of the hour, minute 0 first, up to the last minute with output; they add up to <paramref name="UsedBytes"/>.</param>
/// <param name="UsedBytes">Stored job output of the hour.</param>
/// <param name="DroppedBytes">Job output of the hour the budget did not store.</param>
/// <param name="DroppedLines">Lines of it (<c>\n</c>-terminated pieces).</param>
/// <param name="DroppedTail">The last at most 64 KiB of what the budget dropped, in the order it was dropped, as pieces of each run's output; starting at a whole line when more was dropped.</param>
public sealed record ProjectBudgetReport(
    DateTimeOffset HourStartedAt,
    IReadOnlyList<ProjectRepeatedLine> TopLines,
    IReadOnlyList<long> BytesPerMinute,
    long UsedBytes,
    long DroppedBytes,
    long DroppedLines,
    IReadOnlyList<DroppedText> DroppedTail);

/// <summary>One of a project hour's most repeated lines.</summary>
/// <param name="Line">The line's text (its first 200 bytes, as UTF-8 with invalid bytes replaced).</param>
/// <param name="Count">How many times the project's jobs wrote it in the hour (an estimate; see <paramref name="Error"/>).</param>
/// <param name="Error">The most <paramref name="Count"/> may overcount by (0 when exact).</param>
/// <param name="Run">The run whose output the line was first counted from; null when that run was deleted since.</param>
public sealed record ProjectRepeatedLine(string Line, long Count, long Error, string? Run);

/// <summary>A piece of the text a project's budget dropped, all of one run's output.</summary>
/// <param name="Run">The run that wrote it; null when that run was deleted since.</param>
/// <param name="Text">The text, as UTF-8 with invalid bytes replaced.</param>
public sealed record DroppedText(string? Run, string Text);

/// <summary>Something that happened to a project as a whole: its budget's warnings and crossings.</summary>
/// <param name="Timestamp">When it happened (the server's clock).</param>
/// <param name="Type"><c>log_budget_warning</c> or <c>log_budget_exceeded</c>.</param>
/// <param name="Message">What happened, in words, with the numbers and the run that carried it.</param>
public sealed record ProjectEvent(DateTimeOffset Timestamp, string Type, string Message);

/// <summary>The event types of a project's budget, in the project's events and in the events of the run that carried them.</summary>
public static class BudgetEventTypes
{
    /// <summary>A warning threshold (<c>DSTACK_SERVER_LOG_QUOTA_WARN_AT</c>) of the project's budget was reached in an hour.</summary>
    public const string LogBudgetWarning = "log_budget_warning";

    /// <summary>The project's hour crossed its budget (any action).</summary>
    public const string LogBudgetExceeded = "log_budget_exceeded";
}
