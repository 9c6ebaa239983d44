using System.Runtime.InteropServices;

namespace LogQuota.Runner.Execution;

/// <summary>
/// The libc calls of the code unpacker: every name is created relative to a directory descriptor that was opened
/// without following a symlink, so no path an archive names can lead the runner elsewhere, and the file-system
/// credentials of one thread.
/// </summary>
internal static unsafe partial class Native
{
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;

    public const int EEXIST = 17;

    // O_DIRECTORY and O_NOFOLLOW differ between architectures: x86 and x86_64 use the historical values, Arm the
    // generic ones (asm-generic/fcntl.h against arch/arm*/include/uapi/asm/fcntl.h).
    private static readonly bool s_arm = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64;

    public static int O_DIRECTORY => s_arm ? 0x4000 : 0x10000;

    public static int O_NOFOLLOW => s_arm ? 0x8000 : 0x20000;

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int openat(int dirfd, byte* path, int flags, uint mode);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int mkdirat(int dirfd, byte* path, uint mode);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int symlinkat(byte* target, int newdirfd, byte* linkpath);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int linkat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath, int flags);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int fchmod(int fd, uint mode);

    /// <summary>Sets the calling thread's file-system uid (per thread on Linux; glibc does not spread it to the other threads); returns the previous one.</summary>
    [LibraryImport(Libc)]
    public static partial int setfsuid(uint fsuid);

    /// <summary>Sets the calling thread's file-system gid; returns the previous one.</summary>
    [LibraryImport(Libc)]
    public static partial int setfsgid(uint fsgid);

    [LibraryImport(Libc, SetLastError = true)]
    public static partial int getgroups(int size, uint* list);

    /// <summary>The raw system call, which unlike glibc's <c>setgroups</c> changes the calling thread's groups only.</summary>
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial nint syscall_setgroups(nint number, nint size, uint* list);

    /// <summary>setgroups(2)'s number: 116 on x86_64, 159 on arm64 (the generic table); null elsewhere.</summary>
    private static nint? SetGroupsNumber => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 116,
        Architecture.Arm64 => 159,
        _ => null,
    };

    /// <summary>Sets the supplementary groups of the calling thread only. False where the call's number is not known here.</summary>
    public static bool SetThreadGroups(ReadOnlySpan<uint> groups)
    {
        if (SetGroupsNumber is not { } number)
        {
            return false;
        }

        fixed (uint* list = groups)
        {
            if (syscall_setgroups(number, groups.Length, list) != 0)
            {
                throw new IOException($"setgroups failed: {Describe(Marshal.GetLastPInvokeError())}");
            }
        }

        return true;
    }
}
