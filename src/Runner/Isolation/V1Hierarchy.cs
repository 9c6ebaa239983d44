namespace LogQuota.Runner.Isolation;

/// <summary>
/// The runner's group in one cgroup v1 hierarchy (<c>memory</c>, <c>cpu</c>): <c>&lt;the runner's own group&gt;/logquota-&lt;hash
/// of DSTACK_RUNNER_DIR&gt;</c>, holding one <c>job-&lt;job id&gt;</c> group per limited job. The shim enters a job's group
/// before the job's first instruction; the group only holds a limit (the kill goes through the job's cgroup v2 group, PID
/// namespace or the process scan).
/// </summary>
/// <remarks>
/// Why v1: hosts on the hybrid layout (this project's CI among them) keep these controllers in v1, and a v2 group there
/// has none. Where a v2 hierarchy offers them, the limits belong in the job's v2 group (<c>memory.max</c>,
/// <c>cpu.max</c>); this runner does not do that yet and says so at start-up.
/// </remarks>
internal sealed class V1Hierarchy : IDisposable
{
    private const string JobPrefix = "job-";

    private V1Hierarchy(string controller, string path)
    {
        Controller = controller;
        Path = path;
    }

    /// <summary>The controller's name as <c>/proc/self/cgroup</c> lists it.</summary>
    public string Controller { get; }

    /// <summary>The runner's group in the hierarchy.</summary>
    public string Path { get; }

    /// <summary>Creates the runner's group in the hierarchy of <paramref name="controller"/>; null with the reason when there is none to use.</summary>
    /// <param name="controller">The controller, such as <c>memory</c> or <c>cpu</c>.</param>
    /// <param name="probeFile">A file of the controller every group has, which proves it is mounted (<c>memory.limit_in_bytes</c>).</param>
    /// <param name="runnerDir">DSTACK_RUNNER_DIR: two runners on one host get groups of their own.</param>
    /// <param name="whyNot">Why not, in a few words for the start-up log.</param>
    public static V1Hierarchy? TryCreate(string controller, string probeFile, string runnerDir, out string whyNot)
    {
        // The mount is found in mountinfo rather than assumed: "cpu" is /sys/fs/cgroup/cpu on one host and
        // /sys/fs/cgroup/cpu,cpuacct on another.
        var mount = File.ReadLines("/proc/self/mountinfo")
            .Select(l => l.Split(" - ", 2))
            .Where(p => p.Length == 2 && p[1].StartsWith("cgroup ", StringComparison.Ordinal)
                && p[1].Split(' ').Last().Split(',').Contains(controller))
            .Select(p => p[0].Split(' '))
            .FirstOrDefault(f => f.Length > 4);
        if (mount is null || !File.Exists($"{mount[4]}/{probeFile}"))
        {
            whyNot = $"no cgroup v1 {controller} hierarchy is mounted (a cgroup v2 one is not used yet)";
            return null;
        }

        var own = File.ReadAllLines("/proc/self/cgroup")
            .Select(l => l.Split(':', 3))
            .FirstOrDefault(f => f.Length == 3 && f[1].Split(',').Contains(controller));
        if (own is null)
        {
            whyNot = $"the runner is in no cgroup v1 {controller} group";
            return null;
        }

        // /proc/self/cgroup names the group from the hierarchy's root; a mount may show only a subtree of it (field 4).
        var root = mount[3] == "/" ? "" : mount[3];
        var relative = own[2].StartsWith(root, StringComparison.Ordinal) ? own[2][root.Length..] : own[2];
        var path = $"{mount[4]}{relative.TrimEnd('/')}/{RunnerCgroup.GroupName(runnerDir)}";
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = $"cannot create a {controller} group in {System.IO.Path.GetDirectoryName(path)} ({e.Message.TrimEnd('.')})";
            return null;
        }

        whyNot = string.Empty;
        var hierarchy = new V1Hierarchy(controller, path);
        hierarchy.SweepStaleGroupsOfOtherRunners();
        return hierarchy;
    }

    /// <summary>Creates the job's group (empty, no limit yet); the caller writes the limit and removes the group should that fail.</summary>
    public V1JobGroup CreateJob(Guid jobId)
    {
        Directory.CreateDirectory(Path);
        var path = $"{Path}/{JobPrefix}{jobId:N}";
        Directory.CreateDirectory(path);
        return new V1JobGroup(path);
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

    /// <summary>
    /// Removes what runners killed on other directories left beside this runner's group: runners' groups whose job groups
    /// are all empty, once untouched for <see cref="RunnerCgroup.StaleAfter"/>. A v1 group holding a process cannot be
    /// removed (EBUSY), so a live job is never touched; a live runner idle that long loses only an empty group, which
    /// <see cref="CreateJob"/> makes again.
    /// </summary>
    private void SweepStaleGroupsOfOtherRunners()
    {
        var parent = System.IO.Path.GetDirectoryName(Path)!;
        foreach (var other in Directory.EnumerateDirectories(parent, "logquota-*"))
        {
            if (other == Path || DateTime.UtcNow - Directory.GetLastWriteTimeUtc(other) <= RunnerCgroup.StaleAfter)
            {
                continue;
            }

            try
            {
                foreach (var job in Directory.EnumerateDirectories(other, JobPrefix + "*"))
                {
                    Directory.Delete(job);
                }

                Directory.Delete(other);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A job group still holds a process (a job stuck in the kernel, or a live runner's): left for later.
            }
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
                new V1JobGroup(dir).TryRemove();
            }
        }
    }
}

/// <summary>One job's group in a cgroup v1 hierarchy.</summary>
internal sealed class V1JobGroup(string path)
{
    public string Path { get; } = path;

    /// <summary>Where the shim writes itself to enter the group.</summary>
    public string ProcsPath => Path + "/cgroup.procs";

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
