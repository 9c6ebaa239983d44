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
public sealed record ProjectBudgetStatus(
    long? Limit,
    LogQuotaAction Action,
    long UsedBytesHour,
    DateTimeOffset HourStartedAt,
    DateTimeOffset HourResetsAt,
    long DroppedBytesHour,
    DateTimeOffset? ExceededAt);

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
