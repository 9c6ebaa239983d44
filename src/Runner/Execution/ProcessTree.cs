using System.Globalization;

namespace LogQuota.Runner.Execution;

/// <summary>
/// Finds every live process of a job by three independent traits, read from <c>/proc</c>:
/// membership in the job's session (the job is a session leader, so its pid is the session id),
/// descent from the job's main process (catches children that called setsid), and the job's
/// marker in the environment (catches double-forked daemons reparented away from the tree).
/// A process would have to leave the session, be reparented and clear its environment to escape.
/// </summary>
internal static class ProcessTree
{
    /// <summary>Kill rounds stop after this long; only a process stuck in uninterruptible sleep survives that long.</summary>
    private static readonly TimeSpan KillDeadline = TimeSpan.FromSeconds(5);

    private readonly record struct ProcStat(int Pid, int ParentPid, int SessionId, char State);

    /// <summary>The pids of the job's live (not zombie) processes, never the runner itself or its ancestors.</summary>
    public static List<int> FindMembers(int jobPid, string marker)
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

        // "\0NAME=value\0": environ entries are NUL-separated; encoded once per scan, not per process.
        var needle = new byte[marker.Length + 2];
        System.Text.Encoding.ASCII.GetBytes(marker, needle.AsSpan(1));
        var members = new List<int>();
        foreach (var s in stats)
        {
            if (s.State is 'Z' or 'X' || protectedPids.Contains(s.Pid))
            {
                continue;
            }

            if (s.SessionId == jobPid || s.Pid == jobPid || DescendsFrom(s.Pid, jobPid, parents) || HasMarker(s.Pid, needle))
            {
                members.Add(s.Pid);
            }
        }

        return members;
    }

    /// <summary>
    /// SIGKILLs the job's process group, then every member found, and repeats until a scan finds
    /// none: a process forked between a scan and its kill is caught by the next round.
    /// Returns how many kill rounds it took.
    /// </summary>
    public static int KillAll(int jobPid, string marker)
    {
        _ = Native.kill(-jobPid, Native.SIGKILL);
        var deadline = Environment.TickCount64 + (long)KillDeadline.TotalMilliseconds;
        for (var round = 1; ; round++)
        {
            var members = FindMembers(jobPid, marker);
            if (members.Count == 0 || Environment.TickCount64 > deadline)
            {
                return round;
            }

            foreach (var pid in members)
            {
                _ = Native.kill(pid, Native.SIGKILL);
            }

            // A killed process stays listed until the kernel has torn it down; give it a moment
            // rather than spinning on /proc.
            Thread.Sleep(round == 1 ? 0 : 1);
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
        var needle = new byte[marker.Length + 2];
        System.Text.Encoding.ASCII.GetBytes(marker, needle.AsSpan(1));
        var deadline = Environment.TickCount64 + (long)KillDeadline.TotalMilliseconds;
        var killed = new HashSet<int>();
        while (Environment.TickCount64 <= deadline)
        {
            var members = ReadAll()
                .Where(s => s.State is not ('Z' or 'X') && s.Pid != self && s.Pid != 1 && HasMarker(s.Pid, needle))
                .Select(s => s.Pid)
                .ToList();
            if (members.Count == 0)
            {
                break;
            }

            foreach (var pid in members)
            {
                _ = Native.kill(pid, Native.SIGKILL);
                killed.Add(pid);
            }

            Thread.Sleep(1);
        }

        return killed.Count;
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

    private static bool HasMarker(int pid, ReadOnlySpan<byte> needle)
    {
        try
        {
            var environ = File.ReadAllBytes($"/proc/{pid}/environ");
            // Match a whole entry, also when it is the first one (no leading NUL).
            return environ.AsSpan().StartsWith(needle[1..]) || environ.AsSpan().IndexOf(needle) >= 0;
        }
        catch (IOException)
        {
            return false; // exited meanwhile
        }
        catch (UnauthorizedAccessException)
        {
            return false; // another user's process: not one the job could have started as us
        }
    }

    private static List<ProcStat> ReadAll()
    {
        var result = new List<ProcStat>(256);
        Span<Range> parts = stackalloc Range[5];
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir.AsSpan());
            if (!int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                continue;
            }

            // "pid (comm) state ppid pgrp session ..."; comm may itself contain spaces and ')'.
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length)
            {
                continue;
            }

            var fields = stat.AsSpan(close + 2);
            if (fields.Split(parts, ' ') < 4)
            {
                continue;
            }

            var state = fields[parts[0]][0];
            _ = int.TryParse(fields[parts[1]], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ppid);
            _ = int.TryParse(fields[parts[3]], NumberStyles.Integer, CultureInfo.InvariantCulture, out var session);
            result.Add(new ProcStat(pid, ppid, session, state));
        }

        return result;
    }
}
