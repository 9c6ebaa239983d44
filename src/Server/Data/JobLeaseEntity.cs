namespace LogQuota.Server.Data;

/// <summary>
/// One lease of a job by a replica, from its claim to its last renewal (PostgreSQL only; LOCKING.md). Kept as a
/// history, so that "never two replicas on one job at once" can be checked from the database.
/// </summary>
public sealed class JobLeaseEntity
{
    public long Id { get; set; }

    public Guid JobId { get; set; }

    /// <summary>The replica: its host name, process id and a random suffix.</summary>
    public required string Owner { get; set; }

    /// <summary>When the replica claimed the job, on the database's clock.</summary>
    public DateTimeOffset AcquiredAt { get; set; }

    /// <summary>Until when its last renewal held the job; a takeover comes after this.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
