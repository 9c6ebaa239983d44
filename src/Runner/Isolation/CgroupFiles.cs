using System.Runtime.InteropServices;
using System.Text;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// Reads and writes cgroup v2 interface files with one open/read-or-write/close each. Not File.WriteAllText:
/// a cgroup file is not a regular file, and its errors (EBUSY, EINVAL, EACCES) must come back as the
/// kernel said them, which is what the start-up log and the failure messages quote.
/// </summary>
internal static unsafe class CgroupFiles
{
    public static void Write(string path, string text)
    {
        var fd = Open(path, Native.O_WRONLY);
        try
        {
            var bytes = Encoding.ASCII.GetBytes(text);
            fixed (byte* p = bytes)
            {
                if (Native.write(fd, p, bytes.Length) != bytes.Length)
                {
                    throw Failure("write", path);
                }
            }
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    /// <summary>The whole file (interface files are small); empty when it cannot be read because the group is gone.</summary>
    public static string Read(string path)
    {
        int fd;
        try
        {
            fd = Open(path, Native.O_RDONLY);
        }
        catch (IOException)
        {
            return string.Empty;
        }

        try
        {
            return ReadFrom(fd);
        }
        finally
        {
            _ = Native.close(fd);
        }
    }

    public static string ReadFrom(int fd)
    {
        var buffer = new byte[64 * 1024];
        var length = 0;
        fixed (byte* p = buffer)
        {
            while (length < buffer.Length)
            {
                var n = Native.pread(fd, p + length, buffer.Length - length, length);
                if (n <= 0)
                {
                    break;
                }

                length += (int)n;
            }
        }

        return Encoding.ASCII.GetString(buffer, 0, length);
    }

    public static int Open(string path, int flags)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            var fd = Native.open(p, flags | Native.O_CLOEXEC);
            return fd >= 0 ? fd : throw Failure("open", path);
        }
    }

    /// <summary>The pids listed in a <c>cgroup.procs</c> (one per line).</summary>
    public static List<int> ReadPids(string path)
    {
        var pids = new List<int>();
        foreach (var line in Read(path).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(line, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid))
            {
                pids.Add(pid);
            }
        }

        return pids;
    }

    private static IOException Failure(string what, string path)
    {
        var errno = Marshal.GetLastPInvokeError();
        return new IOException($"cannot {what} {path}: {Native.Describe(errno)}", errno);
    }
}
