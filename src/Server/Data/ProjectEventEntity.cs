namespace LogQuota.Server.Data;

/// <summary>One of a project's events: its log budget's warnings and crossings.</summary>
public sealed class ProjectEventEntity
{
    public long Id { get; set; }

    public Guid ProjectId { get; set; }

    /// <summary>When it happened, on the server's clock.</summary>
    public DateTimeOffset Timestamp { get; set; }

    /// <summary>A <c>BudgetEventTypes</c> name, such as <c>log_budget_warning</c>.</summary>
    public required string Type { get; set; }

    public required string Message { get; set; }
}
