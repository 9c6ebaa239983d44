using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace LogQuota.Shared.Hosting;

/// <summary>
/// An exclusive <c>flock</c> on a data directory's <c>lock</c> file, held for the life of the process: one server or
/// runner per directory. A second process on the same directory would sweep the first one's jobs as leftovers and
/// then fail on its port, so it must stop before it touches anything. The kernel drops the lock when the holder
/// exits, however it exits, so a crash never leaves a stale lock behind; the file itself stays and holds the pid.
/// </summary>
public sealed partial class DirectoryLock : IDisposable
{
    /// <summary>The lock file's name inside the directory.</summary>
    public const string FileName = "lock";

    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private const int O_NOFOLLOW = 0x20000;
    private const int O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int EWOULDBLOCK = 11;
    private const int EINTR = 4;

    private readonly SafeFileHandle _handle;

    private DirectoryLock(string path, SafeFileHandle handle, string? repaired = null)
    {
        Path = path;
        _handle = handle;
        Repaired = repaired;
    }

    /// <summary>The lock file.</summary>
    public string Path { get; }

    /// <summary>What <see cref="Acquire"/> made private that was not (for one line in the start-up log), or null.</summary>
    public string? Repaired { get; }

    /// <summary>
    /// Creates <paramref name="dir"/> (mode 0700) if needed and takes its lock without waiting.
    /// </summary>
    /// <exception cref="DirectoryInUseException">Another process holds the lock.</exception>
    /// <exception cref="IOException">The directory cannot be created or written (a file, no permission, read-only).</exception>
    public static DirectoryLock Acquire(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("LogQuota runs on Linux: its directory lock is flock(2).");
        }

        if (File.Exists(dir))
        {
            throw new IOException($"{dir} is a file, not a directory");
        }

        try
        {
            Directory.CreateDirectory(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new IOException($"{dir} cannot be created: permission denied", e);
        }
        catch (IOException e)
        {
            throw new IOException($"{dir} cannot be created: {e.Message.TrimEnd('.')}", e);
        }

        var repaired = PrivateDirectory.Enforce(dir);
        var held = Lock(System.IO.Path.Combine(dir, FileName), dir);
        return new DirectoryLock(held.Path, held._handle, repaired);
    }

    /// <summary>
    /// Takes the lock of one file, <paramref name="path"/> itself (created, mode 0600, if missing), without waiting:
    /// for a resource that is not a directory of its own, such as a database file named by a setting.
    /// </summary>
    /// <exception cref="DirectoryInUseException">Another process holds the lock (<see cref="DirectoryInUseException.Directory"/> is the path).</exception>
    /// <exception cref="IOException">The file cannot be created or locked.</exception>
    public static DirectoryLock AcquireFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("LogQuota runs on Linux: its locks are flock(2).");
        }

        return Lock(path, path);
    }

    private static DirectoryLock Lock(string path, string dir)
    {
        int fd;
        do
        {
            fd = Open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0b110_000_000);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            throw new IOException($"{dir} is not writable: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        int result;
        do
        {
            result = Flock(fd, LOCK_EX | LOCK_NB);
        }
        while (result < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (result < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var holder = errno == EWOULDBLOCK ? ReadPid(handle) : null;
            handle.Dispose();
            if (errno == EWOULDBLOCK)
            {
                throw new DirectoryInUseException(dir, holder);
            }

            throw new IOException($"{path} cannot be locked: {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        // Only the holder writes, and only while it holds the lock: a reader sees this pid or, in the instant
        // between the lock and this write, the previous holder's.
        var pid = Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n");
        RandomAccess.SetLength(handle, 0);
        RandomAccess.Write(handle, pid, 0);
        return new DirectoryLock(path, handle);
    }

    /// <summary>Releases the lock (the kernel also does when the process exits).</summary>
    public void Dispose() => _handle.Dispose();

    private static int? ReadPid(SafeFileHandle handle)
    {
        Span<byte> buffer = stackalloc byte[32];
        try
        {
            var read = RandomAccess.Read(handle, buffer, 0);
            return int.TryParse(Encoding.ASCII.GetString(buffer[..read]).Trim(), NumberStyles.None,
                CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);
}

/// <summary>Another process holds a data directory's lock; the message is the one line to show.</summary>
public sealed class DirectoryInUseException(string dir, int? holderPid)
    : Exception(holderPid is { } pid
        ? $"{dir} is in use by another LogQuota process (pid {pid}); only one process may use a directory at a time"
        : $"{dir} is in use by another LogQuota process; only one process may use a directory at a time")
{
    /// <summary>The directory.</summary>
    public string Directory { get; } = dir;

    /// <summary>The holder's pid, when it could be read.</summary>
    public int? HolderPid { get; } = holderPid;
}
