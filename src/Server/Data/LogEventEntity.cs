using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Data;

/// <summary>One stored piece of a job's log, exactly the bytes the runner stored.</summary>
public sealed class LogEventEntity
{
    public long Id { get; set; }

    public Guid JobId { get; set; }

    /// <summary>The runner's timestamp, milliseconds since the Unix epoch; strictly increasing per job.</summary>
    public long Timestamp { get; set; }

    public required byte[] Message { get; set; }

    /// <summary><c>stdout</c> (the job's output) or <c>runner</c> (a <c>[logquota] </c> marker or a dropped tail).</summary>
    public LogSource LogSource { get; set; }

    /// <summary>
    /// The message's style runs as the runner sent them (<see cref="LogStyles"/> as JSON), checked when stored; null
    /// for plain text, so a plain log stores nothing more. Never counted, never in <c>format=text</c>.
    /// </summary>
    public string? Styles { get; set; }
}
