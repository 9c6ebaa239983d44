namespace LogQuota.Server.Data;

/// <summary>
/// One lease of a job by a replica, from its claim to its end (PostgreSQL only; LOCKING.md). Kept as a history, so that
/// "never two replicas on one job at once" can be checked from the database.
/// </summary>
public sealed class JobLeaseEntity
{
    public long Id { get; set; }

    public Guid JobId { get; set; }

    /// <summary>The replica: its host name, process id and a random suffix.</summary>
    public required string Owner { get; set; }

    /// <summary>When the replica claimed the job, on the database's clock.</summary>
    public DateTimeOffset AcquiredAt { get; set; }

    /// <summary>When the lease ended: for a takeover, when the holder's replica lease had run out (the takeover comes
    /// after it); for a clean stop, the stop. Null while the replica holds the job.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }
}
