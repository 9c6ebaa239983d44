using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// What a per-job uid leaves behind after its job (SPEC §7): processes that escaped every kill, and files in the
/// world-writable places every job can reach (<c>/tmp</c>, <c>/var/tmp</c>, <c>/dev/shm</c>). A uid is handed out
/// again only when it has none, so a new job never inherits an old job's files (a 0600 checkpoint in /tmp is
/// readable by whoever holds the uid next). Files are removed as the uid itself (fs credentials of one thread), so
/// a symlink or rename race inside them can only ever touch what that uid could (<see cref="Code.FileOwner"/>).
/// </summary>
internal static partial class UidTraces
{
    /// <summary>The places any uid may create files in, at their top level; what a job puts deeper is under those.</summary>
    public static readonly string[] SharedDirectories = ["/tmp", "/var/tmp", "/dev/shm"];

    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;
    private const uint STATX_UID = 0x8;

    /// <summary>Offset of <c>stx_uid</c> in <c>struct statx</c>, the same on every architecture.</summary>
    private const int StatxUidOffset = 20;

    /// <summary>
    /// The uids of <paramref name="range"/> that have anything left now (a live process, or a file at the top of a shared
    /// directory), found in one pass over <c>/proc</c> and one listing of each shared directory, whatever the range's size.
    /// </summary>
    public static HashSet<uint> Holders(Configuration.UidRange range)
    {
        ArgumentNullException.ThrowIfNull(range);
        var held = ProcessTree.LiveRealUids(range.Contains);
        foreach (var directory in SharedDirectories)
        {
            IEnumerable<string> entries;
            try
            {
                entries = Directory.EnumerateFileSystemEntries(directory).ToList();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var entry in entries)
            {
                if (OwnerOf(entry) is { } owner && range.Contains(owner))
                {
                    held.Add(owner);
                }
            }
        }

        return held;
    }

    /// <summary>The pids of live processes whose real uid is <paramref name="uid"/>.</summary>
    public static List<int> Processes(uint uid)
    {
        var pids = new List<int>();
        var needle = string.Create(CultureInfo.InvariantCulture, $"\nUid:\t{uid}\t");
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var status = File.ReadAllText(Path.Combine(dir, "status"));
                if (status.Contains(needle, StringComparison.Ordinal) && !status.Contains("\nState:\tZ", StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Exited between the listing and the read.
            }
        }

        return pids;
    }

    /// <summary>
    /// SIGKILLs every process of <paramref name="uid"/> until a scan finds none (a process forked between a scan and its
    /// kill is caught by the next round), then removes the uid's files in the shared directories. For a uid whose
    /// job is known to be over: the start-up sweep of a predecessor's uids, and the end of each job.
    /// </summary>
    /// <returns>How many processes were killed and entries removed, and whether nothing is left (no process outlived
    /// the 10 s of kills, and every entry was removed).</returns>
    public static (int Killed, int Removed, bool Clean) Erase(uint uid)
    {
        var killed = 0;
        var deadline = Environment.TickCount64 + 10_000;
        var found = Processes(uid);
        for (; found.Count > 0 && Environment.TickCount64 < deadline; found = Processes(uid))
        {
            foreach (var pid in found)
            {
                killed += Native.kill(pid, Native.SIGKILL) == 0 ? 1 : 0;
            }

            Thread.Sleep(20);
        }

        var removed = 0;
        var entries = SharedDirectories.SelectMany(d => EntriesOwnedBy(d, uid)).ToList();
        if (entries.Count > 0)
        {
            new Code.FileOwner(uid, uid).Run(() =>
            {
                foreach (var entry in entries)
                {
                    removed += TryRemove(entry) ? 1 : 0;
                }
            });
        }

        return (killed, removed, found.Count == 0 && removed == entries.Count);
    }

    /// <summary>Top-level entries of <paramref name="directory"/> owned by <paramref name="uid"/>, links not followed.</summary>
    private static IEnumerable<string> EntriesOwnedBy(string directory, uint uid)
    {
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateFileSystemEntries(directory).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            yield break;
        }

        foreach (var entry in entries)
        {
            if (OwnerOf(entry) == uid)
            {
                yield return entry;
            }
        }
    }

    private static unsafe uint? OwnerOf(string path)
    {
        var buffer = stackalloc byte[256];
        return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_UID, buffer) == 0
            ? BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(buffer + StatxUidOffset, 4))
            : null;
    }

    /// <summary>Removes a file, link or whole directory tree; a link is removed itself, never followed.</summary>
    private static bool TryRemove(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is null && (info.Attributes & FileAttributes.Directory) != 0)
            {
                Directory.Delete(path, recursive: true);
            }
            else
            {
                File.Delete(path);
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
