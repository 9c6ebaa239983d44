namespace LogQuota.Server.Data;

/// <summary>
/// One hour of a project's log budget: the stored job output of all its jobs, summed by every replica in the
/// transaction that stores the page, under this row's lock (<c>FOR UPDATE</c> on PostgreSQL; SQLite has one writer).
/// </summary>
public sealed class ProjectBudgetHourEntity
{
    public Guid ProjectId { get; set; }

    /// <summary>The hour's start on the server's clock (UTC, a whole hour).</summary>
    public DateTimeOffset HourStart { get; set; }

    /// <summary>Stored job output of the hour; never more than the budget under <c>kill</c> and <c>truncate</c>.</summary>
    public long UsedBytes { get; set; }

    /// <summary>Job output of the hour not stored because of the budget.</summary>
    public long DroppedBytes { get; set; }

    /// <summary>The highest warning percentage already warned of in this hour (0: none).</summary>
    public int WarnedPercent { get; set; }

    /// <summary>When the hour crossed the budget; null while it has not.</summary>
    public DateTimeOffset? ExceededAt { get; set; }
}
