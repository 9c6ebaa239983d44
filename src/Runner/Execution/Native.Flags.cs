using System.Runtime.InteropServices;

namespace LogQuota.Runner.Execution;

/// <summary>The inode flags of a file (<c>chattr</c>/<c>lsattr</c>): FS_IOC_GETFLAGS and FS_IOC_SETFLAGS.</summary>
internal static unsafe partial class Native
{
    /// <summary>ext4's "top of a directory hierarchy" flag (<c>chattr +T</c>).</summary>
    public const int FS_TOPDIR_FL = 0x00020000;

    // _IOR('f', 1, long) and _IOW('f', 2, long) on 64-bit Linux; the kernel reads and writes an int through them.
    private const ulong FS_IOC_GETFLAGS = 0x80086601;
    private const ulong FS_IOC_SETFLAGS = 0x40086602;

    [LibraryImport(Libc, SetLastError = true)]
    private static partial int ioctl(int fd, ulong request, int* flags);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open_path(string path, int flags);

    /// <summary>
    /// Adds <paramref name="flag"/> to the inode flags of the directory <paramref name="path"/>. Returns null when it is
    /// set, else why not (the file system has no such flags, as tmpfs and overlayfs have not).
    /// </summary>
    public static string? TryAddDirectoryFlag(string path, int flag)
    {
        var fd = open_path(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        if (fd < 0)
        {
            return Marshal.GetLastPInvokeErrorMessage();
        }

        try
        {
            int flags;
            if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0)
            {
                return Marshal.GetLastPInvokeErrorMessage();
            }

            if ((flags & flag) == flag)
            {
                return null;
            }

            flags |= flag;
            return ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 ? null : Marshal.GetLastPInvokeErrorMessage();
        }
        finally
        {
            close(fd);
        }
    }
}
