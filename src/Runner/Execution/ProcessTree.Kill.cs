using System.Buffers;
using System.Runtime.InteropServices;

namespace LogQuota.Runner.Execution;

/// <summary>
/// The process scan's kills: SIGKILL to every member found, round after round until a scan finds none, each round
/// waiting on pidfds for its victims to exit.
/// </summary>
internal static unsafe partial class ProcessTree
{
    /// <summary>Kill rounds stop after this long; only a process stuck in uninterruptible sleep survives that long.</summary>
    private static readonly TimeSpan KillDeadline = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a kill round waits for the processes it killed to exit before scanning again. Exit
    /// takes microseconds on an idle machine; a busy one may need a few scheduling slices.
    /// </summary>
    private const int ExitWaitMilliseconds = 100;

    private const int ESRCH = 3;

    /// <summary>Cleared once libc or the kernel turns out to lack pidfds; kill(2) and rescans then do the work alone.</summary>
    private static bool s_pidfdsWork = true;


    /// <summary>
    /// SIGKILLs the job's process group, then every member found, and repeats until a scan finds
    /// none: a process forked between a scan and its kill is caught by the next round.
    /// Returns how many kill rounds it took.
    /// </summary>
    public static int KillAll(int jobPid, string marker, ulong jobStartTime, uint? jobUid = null)
    {
        _ = Native.kill(-jobPid, Native.SIGKILL);
        var deadline = Environment.TickCount64 + (long)KillDeadline.TotalMilliseconds;
        for (var round = 1; ; round++)
        {
            var members = FindMembers(jobPid, marker, jobStartTime, jobUid);
            if (members.Count == 0 || Environment.TickCount64 > deadline)
            {
                return round;
            }

            KillAndAwaitExit(members);
        }
    }

    /// <summary>
    /// SIGKILLs each process and waits, up to <see cref="ExitWaitMilliseconds"/>, until all have
    /// exited, so the next scan does not find them still dying and go round again. The wait is a
    /// poll(2) on pidfds: it costs no CPU, which the dying processes need on a busy machine, and a
    /// pidfd cannot signal another process that reused a pid since the scan.
    /// </summary>
    private static void KillAndAwaitExit(List<int> pids)
    {
        var fds = new Native.PollFd[pids.Count];
        var count = 0;
        try
        {
            foreach (var pid in pids)
            {
                var fd = OpenPidfd(pid);
                if (fd >= 0)
                {
                    _ = Native.pidfd_send_signal(fd, Native.SIGKILL, null, 0);
                    fds[count++] = new Native.PollFd { Fd = fd, Events = Native.POLLIN };
                }
                else
                {
                    _ = Native.kill(pid, Native.SIGKILL);
                }
            }

            if (!s_pidfdsWork)
            {
                Thread.Sleep(1); // killed by pid alone: give them a moment before the rescan
            }

            if (count == 0)
            {
                return; // poll(2) with no descriptors would just sleep out the timeout
            }

            fixed (Native.PollFd* p = fds)
            {
                var waitUntil = Environment.TickCount64 + ExitWaitMilliseconds;
                while (true)
                {
                    var left = waitUntil - Environment.TickCount64;
                    if (left <= 0 || Native.poll(p, (nuint)count, (int)left) < 0 && Marshal.GetLastPInvokeError() != Native.EINTR)
                    {
                        return;
                    }

                    var waiting = false;
                    for (var i = 0; i < count; i++)
                    {
                        if (p[i].Revents != 0)
                        {
                            p[i].Fd = -p[i].Fd - 1; // poll ignores negative descriptors; the original is kept to close it
                            p[i].Revents = 0;
                        }

                        waiting |= p[i].Fd >= 0;
                    }

                    if (!waiting)
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            for (var i = 0; i < count; i++)
            {
                _ = Native.close(fds[i].Fd >= 0 ? fds[i].Fd : -fds[i].Fd - 1);
            }
        }
    }

    private static int OpenPidfd(int pid)
    {
        if (!s_pidfdsWork)
        {
            return -1;
        }

        try
        {
            var fd = Native.pidfd_open(pid, 0);
            if (fd < 0 && Marshal.GetLastPInvokeError() is not ESRCH and not Native.EINTR)
            {
                s_pidfdsWork = false; // ENOSYS (kernel before 5.3) or a seccomp filter: fall back for good
            }

            return fd;
        }
        catch (EntryPointNotFoundException)
        {
            s_pidfdsWork = false; // libc before 2.36
            return -1;
        }
    }

    /// <summary>
    /// SIGKILLs every live process whose environment carries <paramref name="marker"/>, round after round until
    /// none is left: for the processes of a job whose session and parent are no longer known (the runner that
    /// started them is gone). Returns how many processes it killed.
    /// </summary>
    public static int KillMarked(string marker)
    {
        var self = Environment.ProcessId;
        var needle = MarkerNeedle(marker);
        var deadline = Environment.TickCount64 + (long)KillDeadline.TotalMilliseconds;
        var killed = new HashSet<int>();
        var environBuffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (Environment.TickCount64 <= deadline)
            {
                var members = ReadAll()
                    .Where(s => s.State is not ((byte)'Z' or (byte)'X') && s.Pid != self && s.Pid != 1
                        && HasMarker(s.Pid, needle, environBuffer))
                    .Select(s => s.Pid)
                    .ToList();
                if (members.Count == 0)
                {
                    break;
                }

                killed.UnionWith(members);
                KillAndAwaitExit(members);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(environBuffer);
        }

        return killed.Count;
    }
}
