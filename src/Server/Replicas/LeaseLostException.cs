namespace LogQuota.Server.Replicas;

/// <summary>Another replica has taken the job over: this one must not store what it pulled (LOCKING.md).</summary>
public sealed class LeaseLostException(Guid jobId, string replica)
    : Exception($"Replica {replica} lost its lease of job {jobId} to another replica")
{
    public Guid JobId { get; } = jobId;
}
