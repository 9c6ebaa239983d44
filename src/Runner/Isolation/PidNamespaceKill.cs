using System.Runtime.InteropServices;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The kill of a job whose shell is PID 1 of its own PID namespace: SIGKILL to that process makes the kernel kill
/// every other process of the namespace, and the namespace's first process only finishes exiting once they are all
/// gone, so one pidfd wait covers the whole job. Nothing of the job's can leave the namespace (setns into the
/// runner's namespace needs CAP_SYS_ADMIN there).
/// </summary>
/// <remarks>
/// Failure modes: PID 1 is the shim's only child, found through <c>/proc/SHIM/task/SHIM/children</c>; when it is not
/// there (the job ended, or the kill came within microseconds of the start, before the shim forked) the caller falls
/// back to the process scan.
/// </remarks>
/// <param name="shimPid">The job's main process: the shim, whose only child is the namespace's PID 1.</param>
/// <param name="scan">The process scan: signals (every process of the namespace descends from its PID 1, so the scan's
/// descent test finds them all), and the fallback of a kill.</param>
internal sealed unsafe class PidNamespaceKill(int shimPid, ProcessScanKill scan) : IJobKill
{
    public void Signal(int signal) => scan.Signal(signal);

    public int KillAll() => KillAndWait(shimPid) ? 1 : scan.KillAll();

    /// <summary>SIGKILLs the namespace of the job whose shim is <paramref name="shimPid"/> and waits until it is empty. False when its PID 1 was not found.</summary>
    private static bool KillAndWait(int shimPid)
    {
        var deadline = Environment.TickCount64 + (long)JobCgroup.EmptyDeadline.TotalMilliseconds;
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var init = FirstChild(shimPid);
            if (init > 0)
            {
                var fd = Native.pidfd_open(init, 0);
                if (fd < 0)
                {
                    return Marshal.GetLastPInvokeError() == Native.ESRCH; // gone already
                }

                try
                {
                    _ = Native.pidfd_send_signal(fd, Native.SIGKILL, null, 0);
                    var pollFd = new Native.PollFd { Fd = fd, Events = Native.POLLIN };
                    while (Environment.TickCount64 < deadline)
                    {
                        if (Native.poll(&pollFd, 1, (int)Math.Max(1, deadline - Environment.TickCount64)) > 0)
                        {
                            return true;
                        }
                    }

                    return false;
                }
                finally
                {
                    _ = Native.close(fd);
                }
            }

            if (!File.Exists($"/proc/{shimPid}/task/{shimPid}/children"))
            {
                return false;
            }

            Thread.Sleep(1); // the shim has not forked yet: it does so within microseconds of its start
        }

        return false;
    }

    private static int FirstChild(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/task/{pid}/children");
            var first = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            return first is not null && int.TryParse(first, System.Globalization.CultureInfo.InvariantCulture, out var child) ? child : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
