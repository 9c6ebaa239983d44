namespace LogQuota.Server.Replicas;

/// <summary>Another replica has taken the job or the runner's stream over: this one must not store what it pulled (LOCKING.md).</summary>
public sealed class LeaseLostException : Exception
{
    public LeaseLostException(Guid jobId, string replica)
        : base($"Replica {replica} lost its lease of job {jobId} to another replica") => JobId = jobId;

    public LeaseLostException(string runner, string replica)
        : base($"Replica {replica} lost its lease of runner {runner}'s stream to another replica")
    {
    }

    public Guid JobId { get; }
}
