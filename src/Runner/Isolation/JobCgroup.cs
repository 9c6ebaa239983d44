using System.Runtime.InteropServices;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// One job's cgroup v2 group, and what it guarantees: every process of the job is in it from the job's first
/// instruction (the shim enters it before it execs the job's shell, and children are born where their parent
/// is), nothing of the job's can leave it (the group and its parents belong to root, or to the runner's uid when
/// the runner is not root: see the threat model in docs/isolation.md), and <see cref="KillAndWaitEmpty"/> ends all of them —
/// the kernel's <c>cgroup.kill</c> SIGKILLs every member and any process being forked into it meanwhile.
/// </summary>
/// <remarks>
/// Failure modes: creating the group fails (EACCES without delegation, ENOSPC past cgroup.max.descendants): the
/// job does not start, with the kernel's reason. A member in uninterruptible sleep (D state on a dead NFS server)
/// outlives the kill; <see cref="KillAndWaitEmpty"/> gives up after <see cref="EmptyDeadline"/> and says so, and
/// the group is then left for the start-up sweep of the next runner process to remove.
/// </remarks>
internal sealed unsafe class JobCgroup
{
    /// <summary>How long a kill waits for the group to empty: the exit of a SIGKILLed process takes microseconds.</summary>
    public static readonly TimeSpan EmptyDeadline = TimeSpan.FromSeconds(5);

    private readonly Action? _onRemoved;

    private JobCgroup(string path, Action? onRemoved = null)
    {
        Path = path;
        _onRemoved = onRemoved;
    }

    /// <summary>The group's directory in the cgroup2 file system.</summary>
    public string Path { get; }

    /// <summary>Where the shim writes itself to enter the group.</summary>
    public string ProcsPath => Path + "/cgroup.procs";

    /// <summary>Creates the group (empty) with <paramref name="pidsMax"/> when the pids controller is enabled for it.</summary>
    /// <param name="onRemoved">Called once the group is removed (the runner's group then removes itself if empty).</param>
    public static JobCgroup Create(string path, int? pidsMax, Action? onRemoved = null)
    {
        // mkdir(2) alone: Directory.CreateDirectory would also make a missing parent, the runner's group, without its controllers.
        var parent = System.IO.Path.GetDirectoryName(path)!;
        if (!Directory.Exists(parent))
        {
            throw new DirectoryNotFoundException($"{parent} is gone");
        }

        Directory.CreateDirectory(path);
        var group = new JobCgroup(path, onRemoved);
        if (pidsMax is { } max)
        {
            try
            {
                CgroupFiles.Write(path + "/pids.max", max.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch
            {
                group.TryRemove();
                throw;
            }
        }

        return group;
    }

    /// <summary>An existing group, e.g. one left by an earlier runner process.</summary>
    public static JobCgroup Open(string path) => new(path);

    /// <summary>The pids of the group's processes.</summary>
    public List<int> Members() => CgroupFiles.ReadPids(ProcsPath);

    /// <summary>Whether any live process is in the group (<c>populated</c> in <c>cgroup.events</c>).</summary>
    public bool IsPopulated() => CgroupFiles.Read(Path + "/cgroup.events").Contains("populated 1", StringComparison.Ordinal);

    /// <summary>Sends <paramref name="signal"/> once to every process in the group.</summary>
    public void Signal(int signal)
    {
        foreach (var pid in Members())
        {
            _ = Native.kill(pid, signal);
        }
    }

    /// <summary>
    /// SIGKILLs every process in the group through <c>cgroup.kill</c> and waits until the kernel reports the
    /// group empty. True when it is; false after <see cref="EmptyDeadline"/> (or when the group is gone already).
    /// </summary>
    public bool KillAndWaitEmpty()
    {
        try
        {
            CgroupFiles.Write(Path + "/cgroup.kill", "1");
        }
        catch (IOException) when (!Directory.Exists(Path))
        {
            return true; // removed: nothing can be in it
        }

        return WaitEmpty(EmptyDeadline);
    }

    /// <summary>
    /// Waits for <c>populated 0</c>. The kernel signals every change of <c>cgroup.events</c> as POLLPRI, so the wait
    /// sleeps until the last member's exit instead of polling a timer; the 10 ms cap only bounds a missed wakeup.
    /// </summary>
    public bool WaitEmpty(TimeSpan timeout)
    {
        int fd;
        try
        {
            fd = CgroupFiles.Open(Path + "/cgroup.events", Native.O_RDONLY);
        }
        catch (IOException)
        {
            return !Directory.Exists(Path);
        }

        try
        {
            var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
            while (true)
            {
                if (!CgroupFiles.ReadFrom(fd).Contains("populated 1", StringComparison.Ordinal))
                {
                    return true;
                }

                var left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return false;
                }

                var pollFd = new Native.PollFd { Fd = fd, Events = Native.POLLPRI };
                if (Native.poll(&pollFd, 1, (int)Math.Min(left, 10)) < 0 && Marshal.GetLastPInvokeError() != Native.EINTR)
                {
                    Thread.Sleep(1);
                }
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>Removes the group; one that still has processes is killed and emptied first. False when it cannot be removed.</summary>
    public bool TryRemove()
    {
        for (var attempt = 0; attempt < 2; attempt++)
        {
            try
            {
                Directory.Delete(Path);
                _onRemoved?.Invoke();
                return true;
            }
            catch (DirectoryNotFoundException)
            {
                return true;
            }
            catch (IOException) when (attempt == 0)
            {
                KillAndWaitEmpty(); // EBUSY: populated (or a child group, which a job cannot create: the group is not its own)
            }
            catch (IOException)
            {
                return false;
            }
        }

        return false;
    }
}
