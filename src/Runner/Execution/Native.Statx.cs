using System.Runtime.InteropServices;

namespace LogQuota.Runner.Execution;

/// <summary>statx(2), for measuring a job's files: one layout on every architecture, unlike <c>struct stat</c>.</summary>
internal static unsafe partial class Native
{
    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const int AT_NO_AUTOMOUNT = 0x800;
    private const uint STATX_TYPE = 0x1;
    private const uint STATX_NLINK = 0x4;
    private const uint STATX_INO = 0x100;
    private const uint STATX_BLOCKS = 0x400;

    /// <summary>What a measurement needs of one file, as lstat would see it (a symlink is itself, never its target).</summary>
    /// <param name="Mode">The type bits of <c>st_mode</c> (<c>S_IFDIR</c>, <c>S_IFLNK</c>, ...).</param>
    /// <param name="Blocks">512-byte blocks allocated to it: what it takes on disk, holes not counted.</param>
    /// <param name="Device">The file system it is on (<c>major &lt;&lt; 32 | minor</c>).</param>
    public readonly record struct FileStatus(uint Mode, ulong Blocks, ulong Device, ulong Inode, uint Links)
    {
        public bool IsDirectory => (Mode & 0xF000) == 0x4000;
    }

    /// <summary>The file at <paramref name="path"/> without following a final symlink; null when it is gone or cannot be looked at.</summary>
    public static FileStatus? LStat(string path)
    {
        // struct statx is 256 bytes; the offsets are those of linux/stat.h.
        var buffer = stackalloc byte[256];
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE | STATX_NLINK | STATX_INO | STATX_BLOCKS, buffer) != 0)
        {
            return null;
        }

        return new FileStatus(
            Mode: *(ushort*)(buffer + 28),
            Blocks: *(ulong*)(buffer + 48),
            Device: ((ulong)*(uint*)(buffer + 136) << 32) | *(uint*)(buffer + 140),
            Inode: *(ulong*)(buffer + 32),
            Links: *(uint*)(buffer + 16));
    }

    [LibraryImport(Libc, SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
