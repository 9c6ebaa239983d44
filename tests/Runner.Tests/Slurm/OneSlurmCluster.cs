namespace LogQuota.Runner.Tests.Slurm;

/// <summary>The Slurm tests share one cluster and each ends by checking its queue is empty (one stops its controller): one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OneSlurmCluster
{
    public const string Name = "Slurm cluster";
}
