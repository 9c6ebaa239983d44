using System.Security.Cryptography;
using System.Text;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The runner's group in a cgroup v2 hierarchy, parent of one <see cref="JobCgroup"/> per job:
/// <c>&lt;the runner's own group&gt;/logquota-&lt;hash of DSTACK_RUNNER_DIR&gt;/job-&lt;job id&gt;</c>. Named after the
/// runner's directory, which one runner process holds at a time (its lock), so a new process on the same directory
/// finds and empties the groups its predecessor left, and two runners never share a group.
/// </summary>
/// <remarks>
/// Where it can live: the runner's own group (from <c>/proc/self/cgroup</c>) when the runner may create groups in it —
/// root on a host, a systemd unit with <c>Delegate=yes</c>, a container with a writable cgroup namespace. The pids
/// controller is used when the hierarchy offers it (a host still on the hybrid cgroup v1 layout keeps it in v1, and
/// a group holding processes, such as a container's root, cannot hand it down): without it a fork bomb is not
/// bounded, though it is still killed whole.
/// </remarks>
internal sealed class RunnerCgroup : IDisposable
{
    private const string JobPrefix = "job-";

    /// <summary>
    /// How old an empty job group of another runner must be before a starting runner removes it: far longer than
    /// the milliseconds between a live runner creating a group and its shim entering it.
    /// </summary>
    internal static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(1);

    /// <summary>Creating a job group and removing the (then empty) runner's group exclude each other.</summary>
    private readonly Lock _lock = new();
    private readonly string _own;

    private RunnerCgroup(string own, string path, bool pidsEnabled, string pidsNote)
    {
        _own = own;
        Path = path;
        PidsEnabled = pidsEnabled;
        PidsNote = pidsNote;
    }

    public string Path { get; }

    /// <summary>Whether job groups get <c>pids.max</c>.</summary>
    public bool PidsEnabled { get; }

    /// <summary>What the start-up log says about the process limit.</summary>
    public string PidsNote { get; }

    /// <summary>The name of a runner's group, in every hierarchy: <c>logquota-</c> and a hash of its directory, so two runners on one host have groups of their own.</summary>
    public static string GroupName(string runnerDir) =>
        "logquota-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runnerDir)))[..12];

    /// <summary>Creates (or takes over) the runner's group; null with the reason when cgroups cannot be used here.</summary>
    public static RunnerCgroup? TryCreate(string runnerDir, out string whyNot)
    {
        if (OwnGroupDirectory(out whyNot) is not { } own)
        {
            return null;
        }

        if (!File.Exists(own + "/cgroup.procs"))
        {
            whyNot = $"{own} is not a cgroup v2 group";
            return null;
        }

        var path = $"{own}/{GroupName(runnerDir)}";
        try
        {
            Directory.CreateDirectory(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = $"cannot create a group in {own} ({e.Message.TrimEnd('.')}): delegate a subtree to the runner (systemd Delegate=yes, a writable cgroup namespace)";
            return null;
        }

        if (!File.Exists(path + "/cgroup.kill"))
        {
            TryDelete(path);
            whyNot = "the kernel has no cgroup.kill (Linux 5.14+ needed)";
            return null;
        }

        var pidsEnabled = EnablePids(own, path, out var pidsNote);
        whyNot = string.Empty;
        var cgroup = new RunnerCgroup(own, path, pidsEnabled, pidsNote);
        cgroup.SweepStaleGroupsOfOtherRunners();
        return cgroup;
    }

    /// <summary>
    /// Creates the job's group, and the runner's group first when an idle moment removed it (see <see cref="RemoveIfEmpty"/>).
    /// The removal is what keeps a runner that dies while idle (SIGKILL) from leaving any group behind.
    /// </summary>
    public JobCgroup CreateJob(Guid jobId, int pidsMax)
    {
        lock (_lock)
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    if (!Directory.Exists(Path))
                    {
                        Directory.CreateDirectory(Path);
                        if (PidsEnabled)
                        {
                            CgroupFiles.Write(Path + "/cgroup.subtree_control", "+pids");
                        }
                    }

                    return JobCgroup.Create($"{Path}/{JobPrefix}{jobId:N}", PidsEnabled ? pidsMax : null, RemoveIfEmpty);
                }
                catch (DirectoryNotFoundException) when (attempt < 2)
                {
                    // Another runner's start-up removed this group as stale between the two mkdirs: make it again.
                }
            }
        }
    }

    /// <summary>Removes the runner's group once its last job group is gone; the next job makes it again.</summary>
    public void RemoveIfEmpty()
    {
        lock (_lock)
        {
            TryDelete(Path); // EBUSY while another job's group is in it
        }
    }

    /// <summary>Kills and removes every job group not in <paramref name="keep"/>: what an earlier runner process left. Returns their job ids.</summary>
    public List<Guid> SweepLeftovers(Func<Guid, bool> keep)
    {
        var swept = new List<Guid>();
        foreach (var dir in Subgroups(Path, JobPrefix + "*"))
        {
            var name = System.IO.Path.GetFileName(dir);
            if (Guid.TryParseExact(name[JobPrefix.Length..], "N", out var jobId) && !keep(jobId))
            {
                JobCgroup.Open(dir).TryRemove();
                swept.Add(jobId);
            }
        }

        RemoveIfEmpty();
        return swept;
    }

    /// <summary>
    /// Removes what runners killed on other directories left in the same parent group: job groups that have been
    /// empty for <see cref="StaleAfter"/>, then runners' groups left empty. A populated group is never touched: it
    /// may be a live runner's running job (an orphaned one is swept by the next runner on its directory).
    /// </summary>
    private void SweepStaleGroupsOfOtherRunners()
    {
        foreach (var other in Subgroups(_own, "logquota-*"))
        {
            if (other == Path)
            {
                continue;
            }

            foreach (var job in Subgroups(other, JobPrefix + "*"))
            {
                var group = JobCgroup.Open(job);
                if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(job) > StaleAfter && !group.IsPopulated())
                {
                    TryDelete(job);
                }
            }

            if (DateTime.UtcNow - Directory.GetLastWriteTimeUtc(other) > StaleAfter)
            {
                TryDelete(other);
            }
        }
    }

    /// <summary>Empties and removes every job group and the runner's group: a stopped runner leaves no group behind.</summary>
    public void Dispose()
    {
        SweepLeftovers(_ => false);
        TryDelete(Path);
    }

    /// <summary>The child groups of <paramref name="path"/> matching <paramref name="pattern"/>; none when the group is gone (removed by its runner meanwhile).</summary>
    private static List<string> Subgroups(string path, string pattern)
    {
        try
        {
            return Directory.EnumerateDirectories(path, pattern).ToList();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static bool EnablePids(string own, string path, out string note)
    {
        if (!CgroupFiles.Read(own + "/cgroup.controllers").Split(' ', '\n').Contains("pids"))
        {
            note = "no pids.max: the pids controller is not offered to this cgroup v2 group (a cgroup v1 hierarchy may hold it)";
            return false;
        }

        try
        {
            if (!CgroupFiles.Read(own + "/cgroup.subtree_control").Split(' ', '\n').Contains("pids"))
            {
                CgroupFiles.Write(own + "/cgroup.subtree_control", "+pids");
            }

            CgroupFiles.Write(path + "/cgroup.subtree_control", "+pids");
            note = "pids.max per job";
            return true;
        }
        catch (IOException e)
        {
            // EBUSY: the runner's own group holds processes (a container's root group); see docs/isolation.md for the fix.
            note = $"no pids.max: {e.Message}";
            return false;
        }
    }

    /// <summary>The directory of the runner's own group: the cgroup2 mount plus the path in <c>/proc/self/cgroup</c>.</summary>
    private static string? OwnGroupDirectory(out string whyNot)
    {
        var own = File.ReadAllLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..];
        if (own is null)
        {
            whyNot = "this process is in no cgroup v2 hierarchy";
            return null;
        }

        foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            // "id parent major:minor root mountpoint options [optional...] - fstype source superoptions"
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0 || !line[(dash + 3)..].StartsWith("cgroup2 ", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line[..dash].Split(' ');
            var (root, mountPoint) = (Unescape(fields[3]), Unescape(fields[4]));
            if (root == "/" || own == root || own.StartsWith(root + "/", StringComparison.Ordinal))
            {
                whyNot = string.Empty;
                var relative = root == "/" ? own : own[root.Length..];
                return (mountPoint.TrimEnd('/') + relative).TrimEnd('/');
            }
        }

        whyNot = "no cgroup2 file system is mounted (mount -t cgroup2 none /sys/fs/cgroup)";
        return null;
    }

    /// <summary>mountinfo writes a space as \040, a tab as \011, a newline as \012 and a backslash as \134.</summary>
    private static string Unescape(string field) =>
        field.Replace("\\040", " ", StringComparison.Ordinal).Replace("\\011", "\t", StringComparison.Ordinal)
            .Replace("\\012", "\n", StringComparison.Ordinal).Replace("\\134", "\\", StringComparison.Ordinal);

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still populated by a process stuck in the kernel; the next runner process on this directory sweeps it.
        }
    }
}
