using System.Globalization;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The CPU limit of a job that asks for one (SPEC §9, <c>resources.cpus</c>): the CFS bandwidth of the job's cgroup v1 cpu
/// group, <c>cpu.cfs_quota_us</c> = cpus × <c>cpu.cfs_period_us</c>. A job asking 0.5 runs at most 50 ms of every 100 ms
/// period, summed over all its threads; one asking 2 may keep two CPUs busy. The kernel throttles, it does not kill.
/// </summary>
internal sealed class RunnerCpuGroup(V1Hierarchy hierarchy) : IDisposable
{
    /// <summary>The kernel's default period, 100 ms: long enough that the accounting costs nothing, short enough that a throttled job stays responsive.</summary>
    public const long PeriodMicroseconds = 100_000;

    public string Path => hierarchy.Path;

    /// <summary>Creates the runner's cpu group; null with the reason when no cpu controller can be used here.</summary>
    public static RunnerCpuGroup? TryCreate(string runnerDir, out string whyNot) =>
        V1Hierarchy.TryCreate("cpu", "cpu.cfs_quota_us", runnerDir, out whyNot) is { } hierarchy ? new RunnerCpuGroup(hierarchy) : null;

    /// <summary>The CFS quota of <paramref name="cpus"/> CPUs per <see cref="PeriodMicroseconds"/>; at least the kernel's 1 ms.</summary>
    public static long QuotaMicroseconds(double cpus) => Math.Max(1_000, (long)Math.Round(cpus * PeriodMicroseconds));

    /// <summary>Creates the job's group limited to <paramref name="cpus"/>. Throws <see cref="IOException"/> with the kernel's reason.</summary>
    public V1JobGroup CreateJob(Guid jobId, double cpus)
    {
        var group = hierarchy.CreateJob(jobId);
        try
        {
            CgroupFiles.Write(group.Path + "/cpu.cfs_period_us", PeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
            CgroupFiles.Write(group.Path + "/cpu.cfs_quota_us", QuotaMicroseconds(cpus).ToString(CultureInfo.InvariantCulture));
        }
        catch
        {
            group.TryRemove();
            throw;
        }

        return group;
    }

    public void SweepLeftovers(Func<Guid, bool> keep) => hierarchy.SweepLeftovers(keep);

    public void Dispose() => hierarchy.Dispose();
}
