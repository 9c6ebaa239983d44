using System.Diagnostics;
using System.Globalization;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// A runner killed on a directory of its own (a test's temporary one, a host that was reimaged) leaves its empty group
/// in each cgroup v1 hierarchy; the next runner on the host removes such groups, as the cgroup v2 sweep does.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class V1HierarchyTests
{
    [SkippableFact]
    public void TryCreate_RemovesStaleEmptyGroupsOfOtherRunners_AndKeepsFreshOnesAndOnesHoldingAProcess()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var dir = Directory.CreateTempSubdirectory("logquota-v1sweep-").FullName;
        var probe = V1Hierarchy.TryCreate("cpu", "cpu.cfs_quota_us", dir, out var whyNoCpu);
        Skip.If(probe is null, $"no cgroup v1 cpu hierarchy to use here: {whyNoCpu}");
        var parent = Path.GetDirectoryName(probe.Path)!;
        probe.Dispose();

        var stale = Group(parent, withJob: true);
        var fresh = Group(parent, withJob: false);
        var busy = Group(parent, withJob: true);
        var shim = Path.Combine(AppContext.BaseDirectory, RunnerIsolation.ShimName);
        using var holder = Process.Start(new ProcessStartInfo(shim) { ArgumentList = { "-g", $"{busy}/job-0/cgroup.procs", "/bin/sleep", "300" } })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (File.ReadAllText($"{busy}/job-0/cgroup.procs").Trim() != holder.Id.ToString(CultureInfo.InvariantCulture))
            {
                Assert.True(DateTime.UtcNow < deadline, "the holder process never entered its group");
                Thread.Sleep(10);
            }

            var longAgo = DateTime.UtcNow - RunnerCgroup.StaleAfter - TimeSpan.FromMinutes(1);
            Directory.SetLastWriteTimeUtc(stale, longAgo);
            Directory.SetLastWriteTimeUtc(busy, longAgo);

            using (var hierarchy = V1Hierarchy.TryCreate("cpu", "cpu.cfs_quota_us", dir, out _))
            {
                Assert.NotNull(hierarchy);
                Assert.False(Directory.Exists(stale), $"{stale}, empty and stale, was not removed");
                Assert.True(Directory.Exists(fresh), $"{fresh}, empty but just made (a live runner's), was removed");
                Assert.True(Directory.Exists($"{busy}/job-0"), $"{busy}/job-0 holds a process and was removed");
            }
        }
        finally
        {
            holder.Kill();
            holder.WaitForExit();
            foreach (var group in new[] { stale, fresh, busy })
            {
                RemoveGroup(group);
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Makes a group named as a runner's, with an empty job group in it if asked.</summary>
    private static string Group(string parent, bool withJob)
    {
        var path = $"{parent}/logquota-{Guid.NewGuid():N}"[..^20];
        Directory.CreateDirectory(withJob ? $"{path}/job-0" : path);
        return path;
    }

    private static void RemoveGroup(string path)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (Directory.Exists(path))
        {
            try
            {
                foreach (var job in Directory.EnumerateDirectories(path))
                {
                    Directory.Delete(job);
                }

                Directory.Delete(path);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10); // EBUSY while the killed holder is still exiting
            }
        }
    }
}
