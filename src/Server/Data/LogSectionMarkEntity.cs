using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>
/// One section mark of a job's log, as the runner recorded it (<see cref="LogSectionMark"/>): a fold starts, ends or
/// opens before a line. Never counted, never in the log's text; the folds are built from a job's marks when asked
/// (<see cref="Logs.LogSections"/>). The runner bounds them (at most 500 sections a job), and so does ingest.
/// </summary>
public sealed class LogSectionMarkEntity
{
    public long Id { get; set; }

    public Guid JobId { get; set; }

    /// <summary>The runner's timestamp, on the job's journal clock (milliseconds since the Unix epoch).</summary>
    public long Timestamp { get; set; }

    public LogSectionMarkKind Kind { get; set; }

    /// <summary>The section's number in its job, from 1.</summary>
    public int Section { get; set; }

    /// <summary>The first line at or after the mark, numbered from 1 as the logs' line look-up numbers them.</summary>
    public long Line { get; set; }

    public LogSectionFormat? Format { get; set; }

    public string? Name { get; set; }

    public string? Title { get; set; }

    public int? Parent { get; set; }

    public bool Collapsed { get; set; }
}
