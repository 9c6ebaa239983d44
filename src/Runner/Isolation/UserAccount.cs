using System.Runtime.InteropServices;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// A user of the host's account database (passwd, through the C library and so through NSS: files, LDAP, sssd), as a
/// job runs as it: name, uid, primary gid, every group it is a member of (initgroups semantics), home and shell.
/// </summary>
internal sealed partial record UserAccount(string Name, uint Uid, uint Gid, IReadOnlyList<uint> Groups, string Home, string Shell)
{
    /// <summary>The shell a job user without one in its entry gets, as login(1) does.</summary>
    public const string DefaultShell = "/bin/sh";

    /// <summary>The account named <paramref name="name"/>, or null when the host has no such user.</summary>
    public static unsafe UserAccount? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Lookup((entry, text, size, found) => getpwnam_r(name, entry, text, size, found)) is { } account
            ? account with { Name = name, Groups = GroupsOf(name, account.Gid) }
            : null;
    }

    /// <summary>The account of <paramref name="uid"/>, or null when no entry names it; its groups are not looked up.</summary>
    public static unsafe UserAccount? OfUid(uint uid) =>
        Lookup((entry, text, size, found) => getpwuid_r(uid, entry, text, size, found));

    private unsafe delegate int PasswdCall(byte* entry, byte* text, nuint size, nint* found);

    /// <summary>Calls a getpw*_r function and reads the entry it found; null when none.</summary>
    private static unsafe UserAccount? Lookup(PasswdCall call)
    {
        var entry = stackalloc byte[PasswdSize];
        var buffer = new byte[64 * 1024];
        fixed (byte* text = buffer)
        {
            nint found;
            if (call(entry, text, (nuint)buffer.Length, &found) != 0 || found == 0)
            {
                return null;
            }

            // Read before the buffer that holds the strings goes out of scope.
            var uid = *(uint*)(entry + 16);
            var gid = *(uint*)(entry + 20);
            var name = Marshal.PtrToStringUTF8(*(nint*)entry) ?? $"{uid}";
            var home = Marshal.PtrToStringUTF8(*(nint*)(entry + 32));
            var shell = Marshal.PtrToStringUTF8(*(nint*)(entry + 40));
            return new UserAccount(name, uid, gid, [gid], string.IsNullOrEmpty(home) ? "/" : home, string.IsNullOrEmpty(shell) ? DefaultShell : shell);
        }
    }

    /// <summary>
    /// struct passwd on 64-bit Linux (glibc and musl): pw_name, pw_passwd (pointers), pw_uid, pw_gid (4 bytes each),
    /// pw_gecos, pw_dir, pw_shell (pointers).
    /// </summary>
    private const int PasswdSize = 48;

    /// <summary>getgrouplist: the primary group first, then every group that lists the user as a member.</summary>
    private static unsafe List<uint> GroupsOf(string name, uint gid)
    {
        var count = 64;
        while (true)
        {
            var groups = new uint[count];
            fixed (uint* list = groups)
            {
                var asked = count;
                if (getgrouplist(name, gid, list, &asked) >= 0)
                {
                    return [.. groups.Take(asked).Distinct()];
                }

                // -1: the list was too small, and asked now holds the size it needs.
                count = Math.Max(asked, count * 2);
            }
        }
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int getpwnam_r(string name, byte* entry, byte* buffer, nuint size, nint* result);

    [LibraryImport("libc")]
    private static unsafe partial int getpwuid_r(uint uid, byte* entry, byte* buffer, nuint size, nint* result);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int getgrouplist(string user, uint group, uint* groups, int* count);
}
