namespace LogQuota.Server.Data;

/// <summary>
/// What filled one hour of a project's log budget (<see cref="Budgets.HourEvidence"/>, serialized): bounded whatever the
/// jobs write, changed only in the transaction that charges a page, under the lock of its <see cref="ProjectBudgetHourEntity"/>
/// row, and deleted with that row.
/// </summary>
public sealed class ProjectBudgetEvidenceEntity
{
    public Guid ProjectId { get; set; }

    /// <summary>The hour's start, as its <see cref="ProjectBudgetHourEntity.HourStart"/>.</summary>
    public DateTimeOffset HourStart { get; set; }

    /// <summary>The repeated-lines counters (at most 64, each with a sample of at most 200 bytes).</summary>
    public byte[] TopLines { get; set; } = [];

    /// <summary>Stored bytes per minute of the hour: 60 little-endian 64-bit counts, or empty.</summary>
    public byte[] BytesPerMinute { get; set; } = [];

    /// <summary>Lines the budget dropped in the hour.</summary>
    public long DroppedLines { get; set; }

    /// <summary>The last at most 64 KiB the budget dropped, as pieces with the run each came from.</summary>
    public byte[] DroppedTail { get; set; } = [];
}
