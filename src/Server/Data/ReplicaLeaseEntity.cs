namespace LogQuota.Server.Data;

/// <summary>
/// One server replica's lease (PostgreSQL only; LOCKING.md): every job whose <see cref="JobEntity.LeaseOwner"/> names the
/// replica is held for as long as this row has not run out. The heartbeat renews this one row, so its cost does not
/// grow with the number of jobs the replica holds. A replica whose row ran out, or that has none, holds nothing.
/// </summary>
public sealed class ReplicaLeaseEntity
{
    /// <summary>The replica: its host name, process id and a random suffix (new for every process).</summary>
    public required string Owner { get; set; }

    /// <summary>Until when the replica holds its jobs, on the database's clock: one lease period from its last heartbeat.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
}
