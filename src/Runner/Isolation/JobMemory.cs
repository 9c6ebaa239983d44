using System.Globalization;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The memory limit of each job (SPEC §7, §9): <c>DSTACK_RUNNER_JOB_MEMORY_MAX</c>, or the run's <c>resources.memory</c>
/// (at most that), as <c>memory.limit_in_bytes</c> of the job's cgroup v1 memory group (and
/// <c>memory.memsw.limit_in_bytes</c>, so swap is no way around it). Every process of the job is charged to it, and when
/// they pass the limit the kernel's OOM killer kills one of them inside the group: never the runner, never another job.
/// The group only holds the limit and counts the kernel's OOM kills.
/// </summary>
internal sealed class RunnerMemoryGroup(V1Hierarchy hierarchy) : IDisposable
{
    public string Path => hierarchy.Path;

    /// <summary>Creates the runner's memory group; null with the reason when no memory controller can be used here.</summary>
    public static RunnerMemoryGroup? TryCreate(string runnerDir, out string whyNot) =>
        V1Hierarchy.TryCreate("memory", "memory.limit_in_bytes", runnerDir, out whyNot) is { } hierarchy ? new RunnerMemoryGroup(hierarchy) : null;

    /// <summary>Creates the job's group with <paramref name="limit"/> bytes. Throws <see cref="IOException"/> with the kernel's reason.</summary>
    public JobMemoryGroup CreateJob(Guid jobId, long limit)
    {
        var group = hierarchy.CreateJob(jobId);
        try
        {
            var bytes = limit.ToString(CultureInfo.InvariantCulture);
            CgroupFiles.Write(group.Path + "/memory.limit_in_bytes", bytes);
            if (File.Exists(group.Path + "/memory.memsw.limit_in_bytes"))
            {
                CgroupFiles.Write(group.Path + "/memory.memsw.limit_in_bytes", bytes);
            }
        }
        catch
        {
            group.TryRemove();
            throw;
        }

        return new JobMemoryGroup(group, limit);
    }

    public void SweepLeftovers(Func<Guid, bool> keep) => hierarchy.SweepLeftovers(keep);

    public void Dispose() => hierarchy.Dispose();
}

/// <summary>One job's memory group: its limit, and the kernel's count of OOM kills in it.</summary>
internal sealed class JobMemoryGroup(V1JobGroup group, long limit)
{
    public string Path => group.Path;

    public long Limit { get; } = limit;

    /// <summary>Where the shim writes itself to enter the group.</summary>
    public string ProcsPath => group.ProcsPath;

    /// <summary>How many of the job's processes the kernel killed for passing the limit (<c>oom_kill</c> in memory.oom_control).</summary>
    public long OomKills()
    {
        foreach (var line in CgroupFiles.Read(Path + "/memory.oom_control").Split('\n'))
        {
            if (line.StartsWith("oom_kill ", StringComparison.Ordinal)
                && long.TryParse(line.AsSpan(9), NumberStyles.None, CultureInfo.InvariantCulture, out var kills))
            {
                return kills;
            }
        }

        return 0;
    }

    /// <summary>Removes the group once it is empty; false when it could not.</summary>
    public bool TryRemove() => group.TryRemove();
}
