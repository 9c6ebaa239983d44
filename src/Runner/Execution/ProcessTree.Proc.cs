using System.Buffers.Text;
using System.IO.Enumeration;
using System.Runtime.InteropServices;

namespace LogQuota.Runner.Execution;

/// <summary>
/// The process scan's reads of <c>/proc</c>: every process's stat line, and a process's environment and uid, with plain
/// open/read/close into reused buffers (the scan runs in the quota kill path).
/// </summary>
internal static unsafe partial class ProcessTree
{
    /// <summary>/proc/PID/stat is one short line; its comm field is at most 64 bytes.</summary>
    private const int StatBufferSize = 1024;

    private readonly record struct ProcStat(int Pid, int ParentPid, int SessionId, byte State, ulong StartTime);


    /// <summary>Whether the process's environment holds the whole entry <c>needle[1..^1]</c>; read in chunks.</summary>
    private static bool HasMarker(int pid, ReadOnlySpan<byte> needle, byte[] buffer)
    {
        var fd = OpenProcFile(pid, "/environ\0"u8);
        if (fd < 0)
        {
            return false; // exited meanwhile, or another user's process: not one the job could have started as us
        }

        try
        {
            fixed (byte* p = buffer)
            {
                var kept = 0;
                var first = true;
                while (true)
                {
                    var n = Native.read(fd, p + kept, buffer.Length - kept);
                    if (n <= 0)
                    {
                        return false;
                    }

                    var window = buffer.AsSpan(0, kept + (int)n);
                    // A whole entry: NUL on both sides, or the very first entry (no NUL before it).
                    if ((first && window.StartsWith(needle[1..])) || window.IndexOf(needle) >= 0)
                    {
                        return true;
                    }

                    first = false;
                    kept = Math.Min(needle.Length - 1, window.Length);
                    window[^kept..].CopyTo(buffer);
                }
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>Whether the process's real uid is <paramref name="uid"/> ("Uid:\treal\teffective\tsaved\tfs" in /proc/PID/status).</summary>
    private static bool HasUid(int pid, uint uid, byte[] buffer)
    {
        var n = ReadProcFile(pid, "/status\0"u8, buffer);
        if (n < 0)
        {
            return false;
        }

        var text = buffer.AsSpan(0, (int)n);
        var at = text.IndexOf("\nUid:\t"u8);
        return at >= 0 && Utf8Parser.TryParse(text[(at + 6)..], out uint real, out _) && real == uid;
    }

    /// <summary>
    /// The real uids of every live process (zombies left out) that <paramref name="wanted"/> accepts, in one pass over
    /// <c>/proc</c>: what a per-job uid's check needs for all uids at once, instead of one pass per uid.
    /// </summary>
    public static HashSet<uint> LiveRealUids(Func<uint, bool> wanted)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        var uids = new HashSet<uint>();
        var pids = new FileSystemEnumerable<int>("/proc", ParsePid, new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldIncludePredicate = IsPidDirectory,
        };
        var buffer = stackalloc byte[StatusBufferSize];
        foreach (var pid in pids)
        {
            var n = ReadProcFile(pid, "/status\0"u8, new Span<byte>(buffer, StatusBufferSize));
            if (n <= 0)
            {
                continue; // exited between the listing and the read
            }

            var text = new ReadOnlySpan<byte>(buffer, (int)n);
            var at = text.IndexOf("\nUid:\t"u8);
            if (at >= 0 && Utf8Parser.TryParse(text[(at + 6)..], out uint real, out _) && wanted(real)
                && text.IndexOf("\nState:\tZ"u8) < 0)
            {
                uids.Add(real);
            }
        }

        return uids;
    }

    /// <summary>/proc/PID/status is about 1.5 KiB; its Uid line comes within the first kilobyte.</summary>
    private const int StatusBufferSize = 4096;

    private static List<ProcStat> ReadAll()
    {
        var result = new List<ProcStat>(256);
        var pids = new FileSystemEnumerable<int>("/proc", ParsePid, new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldIncludePredicate = IsPidDirectory,
        };
        var buffer = stackalloc byte[StatBufferSize];
        foreach (var pid in pids)
        {
            if (TryReadStat(pid, new Span<byte>(buffer, StatBufferSize), out var stat))
            {
                result.Add(stat);
            }
        }

        return result;
    }

    private static int ParsePid(ref FileSystemEntry entry) =>
        int.Parse(entry.FileName, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture);

    private static bool IsPidDirectory(ref FileSystemEntry entry)
    {
        var name = entry.FileName;
        return entry.IsDirectory && name.Length is > 0 and < 10 && !name.ContainsAnyExceptInRange('0', '9');
    }

    private static bool TryReadStat(int pid, Span<byte> buffer, out ProcStat stat)
    {
        stat = default;
        var n = ReadProcFile(pid, "/stat\0"u8, buffer);
        if (n <= 0)
        {
            return false;
        }

        // "pid (comm) state ppid pgrp session ... starttime(22nd) ..."; comm may itself contain spaces and ')'.
        var line = buffer[..(int)n];
        var close = line.LastIndexOf((byte)')');
        if (close < 0 || close + 2 >= line.Length)
        {
            return false;
        }

        var fields = line[(close + 2)..];
        int ppid = 0, session = 0;
        for (int i = 0, field = 0, start = 0; i <= fields.Length; i++)
        {
            if (i < fields.Length && fields[i] != (byte)' ')
            {
                continue;
            }

            var value = fields[start..i];
            switch (field)
            {
                case 1:
                    _ = Utf8Parser.TryParse(value, out ppid, out _);
                    break;
                case 3:
                    _ = Utf8Parser.TryParse(value, out session, out _);
                    break;
                case 19: // starttime, the 22nd field of the line
                    if (!Utf8Parser.TryParse(value, out ulong startTime, out _))
                    {
                        return false;
                    }

                    stat = new ProcStat(pid, ppid, session, fields[0], startTime);
                    return true;
            }

            field++;
            start = i + 1;
        }

        return false;
    }

    /// <summary>Opens /proc/PID + <paramref name="suffix"/> (NUL-terminated) read-only; negative on failure.</summary>
    /// <summary>One read(2) of <c>/proc/PID&lt;suffix&gt;</c> into <paramref name="buffer"/>: the bytes read, or -1 when it cannot be opened or read (the process is gone).</summary>
    private static nint ReadProcFile(int pid, ReadOnlySpan<byte> suffix, Span<byte> buffer)
    {
        var fd = OpenProcFile(pid, suffix);
        if (fd < 0)
        {
            return -1;
        }

        nint n;
        fixed (byte* p = buffer)
        {
            n = Native.read(fd, p, buffer.Length);
        }

        _ = Native.close(fd);
        return Math.Max(n, -1);
    }

    private static int OpenProcFile(int pid, ReadOnlySpan<byte> suffix)
    {
        var path = stackalloc byte[64];
        var span = new Span<byte>(path, 64);
        "/proc/"u8.CopyTo(span);
        _ = Utf8Formatter.TryFormat(pid, span[6..], out var digits);
        suffix.CopyTo(span[(6 + digits)..]);
        return Native.open(path, Native.O_RDONLY | Native.O_CLOEXEC);
    }
}
