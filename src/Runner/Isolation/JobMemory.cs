using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The memory limit of each job (SPEC §7, <c>DSTACK_RUNNER_JOB_MEMORY_MAX</c>) through the cgroup v1 memory hierarchy:
/// <c>&lt;the runner's own memory group&gt;/logquota-&lt;hash of DSTACK_RUNNER_DIR&gt;/job-&lt;job id&gt;</c> with
/// <c>memory.limit_in_bytes</c> (and <c>memory.memsw.limit_in_bytes</c>, so swap is no way around it). The shim
/// enters it before the job's first instruction; every process of the job is charged to it, and when they pass
/// the limit the kernel's OOM killer kills one of them inside the group: never the runner, never another job.
/// </summary>
/// <remarks>
/// Why v1: hosts on the hybrid layout (this project's CI among them) keep the memory controller in v1, and a v2
/// group there has none. Where a v2 hierarchy offers <c>memory</c>, the same limit belongs in the job's v2 group
/// (<c>memory.max</c>); this runner does not do that yet and says so at start-up. The kill of a job does not go
/// through this group: it only holds the limit and counts the kernel's OOM kills.
/// </remarks>
internal sealed class RunnerMemoryGroup : IDisposable
{
    private const string Root = "/sys/fs/cgroup/memory";
    private const string JobPrefix = "job-";

    private RunnerMemoryGroup(string path, long limit)
    {
        Path = path;
        Limit = limit;
    }

    public string Path { get; }

    /// <summary>Bytes each job may use.</summary>
    public long Limit { get; }

    /// <summary>Creates the runner's memory group; null with the reason when no memory controller can be used here.</summary>
    public static RunnerMemoryGroup? TryCreate(string runnerDir, long limit, out string whyNot)
    {
        if (!File.Exists($"{Root}/memory.limit_in_bytes"))
        {
            whyNot = $"no cgroup v1 memory hierarchy at {Root} (a cgroup v2 memory.max is not used yet)";
            return null;
        }

        var own = File.ReadAllLines("/proc/self/cgroup")
            .Select(l => l.Split(':', 3))
            .FirstOrDefault(f => f.Length == 3 && f[1].Split(',').Contains("memory"));
        if (own is null)
        {
            whyNot = "the runner is in no cgroup v1 memory group";
            return null;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runnerDir)))[..12];
        var path = $"{Root}{own[2].TrimEnd('/')}/logquota-{hash}";
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = $"cannot create a memory group in {System.IO.Path.GetDirectoryName(path)} ({e.Message.TrimEnd('.')})";
            return null;
        }

        whyNot = string.Empty;
        return new RunnerMemoryGroup(path, limit);
    }

    /// <summary>Creates the job's group with the limit. Throws <see cref="IOException"/> with the kernel's reason.</summary>
    public JobMemoryGroup CreateJob(Guid jobId)
    {
        Directory.CreateDirectory(Path);
        var path = $"{Path}/{JobPrefix}{jobId:N}";
        Directory.CreateDirectory(path);
        var group = new JobMemoryGroup(path, Limit);
        try
        {
            var bytes = Limit.ToString(CultureInfo.InvariantCulture);
            CgroupFiles.Write(path + "/memory.limit_in_bytes", bytes);
            if (File.Exists(path + "/memory.memsw.limit_in_bytes"))
            {
                CgroupFiles.Write(path + "/memory.memsw.limit_in_bytes", bytes);
            }
        }
        catch
        {
            group.TryRemove();
            throw;
        }

        return group;
    }

    /// <summary>Removes the runner's group when the runner stops; a job group still in it (a job stuck in the kernel) keeps it for the next start's sweep.</summary>
    public void Dispose()
    {
        try
        {
            Directory.Delete(Path);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Removes the job groups an earlier runner process on this directory left, once their processes are gone.</summary>
    public void SweepLeftovers(Func<Guid, bool> keep)
    {
        if (!Directory.Exists(Path))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(Path, JobPrefix + "*"))
        {
            if (Guid.TryParseExact(System.IO.Path.GetFileName(dir)[JobPrefix.Length..], "N", out var id) && !keep(id))
            {
                new JobMemoryGroup(dir, Limit).TryRemove();
            }
        }
    }
}

/// <summary>One job's memory group: its limit, and the kernel's count of OOM kills in it.</summary>
internal sealed class JobMemoryGroup(string path, long limit)
{
    public string Path { get; } = path;

    public long Limit { get; } = limit;

    /// <summary>Where the shim writes itself to enter the group.</summary>
    public string ProcsPath => Path + "/cgroup.procs";

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

    /// <summary>Removes the group once it is empty (its processes are gone: the job's kill saw to that); false when it could not.</summary>
    public bool TryRemove()
    {
        var deadline = Environment.TickCount64 + 5_000;
        while (true)
        {
            try
            {
                Directory.Delete(Path);
                return true;
            }
            catch (DirectoryNotFoundException)
            {
                return true;
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                // EBUSY: a process of the job is still exiting.
                Thread.Sleep(10);
            }
            catch (IOException)
            {
                return false;
            }
        }
    }
}
