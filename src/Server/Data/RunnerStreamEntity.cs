namespace LogQuota.Server.Data;

/// <summary>
/// How far a runner's stream (<c>GET /api/pull</c> on the runner) is stored: its cursor, committed in one transaction with
/// every event of the answer that moved it, and on PostgreSQL which replica reads it (LOCKING.md).
/// </summary>
public sealed class RunnerStreamEntity
{
    /// <summary>The runner's stored identity (<see cref="RunnerEntity.RunnerId"/>, or the local runner's own id), never
    /// its address: one runner written two ways by two replicas is one stream, with one lease and one cursor.</summary>
    public required string RunnerId { get; set; }

    /// <summary>The cursor of the last stored answer; null before the first. A concurrency token: an answer is stored only
    /// on top of the cursor it was asked after.</summary>
    public string? Cursor { get; set; }

    /// <summary>Since when the stream's reader has failed to reach the runner; null while it answers. Meanwhile every
    /// replica's passes fall back to one pull per job, which also measures the unreachable timeout.</summary>
    public DateTimeOffset? FailingSince { get; set; }

    /// <summary>The replica reading the stream (PostgreSQL only); null when none holds it.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>Until when <see cref="LeaseOwner"/> holds the stream, on the database's clock.</summary>
    public DateTimeOffset? LeaseExpiresAt { get; set; }
}
