using System.IO.Enumeration;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The disk limit of one job (SPEC §7, <c>DSTACK_RUNNER_JOB_DISK_MAX</c>): the bytes its directory in the work directory
/// takes (its home, its code and a working directory inside them), measured periodically as the kubelet measures a
/// pod's ephemeral storage, since no file-system quota is assumed to exist. Bytes are what the files take on disk
/// (allocated blocks, as <c>du</c> counts them), so a sparse file costs what it holds, not its length.
/// </summary>
/// <remarks>
/// Failure modes, by design: a job can pass the limit between two measurements (by what it writes in one period, which
/// the disk's own size bounds); a symlink counts as itself and is never followed, and another file system mounted below
/// the directory is not entered, so a job cannot have the runner count (or walk) what is not its own; a file with
/// several hard links counts once; a path longer than PATH_MAX (4096 bytes) cannot be opened by name and is not
/// counted. Directories are opened by path: a job that swaps one for a symlink between the check and the open can make
/// one walk count files elsewhere on the same file system, against itself only. Files a job keeps elsewhere (<c>/tmp</c>, an absolute <c>working_dir</c>, a job user's own home) are not
/// under this limit.
/// </remarks>
/// <param name="root">The job's directory, <c>&lt;work dir&gt;/&lt;job id&gt;</c>.</param>
/// <param name="limit">Bytes the job may take.</param>
internal sealed class JobDiskUsage(string root, long limit)
{
    /// <summary>Ten seconds between measurements, the kubelet's housekeeping interval: a walk of a large tree is not free.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    public string Root { get; } = root;

    public long Limit { get; } = limit;

    /// <summary>Bytes the job's directory takes now; 0 while it does not exist.</summary>
    public long Measure()
    {
        if (Native.LStat(Root) is not { IsDirectory: true } top)
        {
            return 0;
        }

        var total = (long)top.Blocks * 512;
        var linked = new HashSet<ulong>();
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0, ReturnSpecialDirectories = false,
        };
        var entries = new FileSystemEnumerable<Native.FileStatus?>(Root, (ref FileSystemEntry entry) => Native.LStat(entry.ToFullPath()), options)
        {
            // Only a real directory on the job directory's own file system is entered: never a symlink, never a mount.
            ShouldRecursePredicate = (ref FileSystemEntry entry) =>
                Native.LStat(entry.ToFullPath()) is { IsDirectory: true } status && status.Device == top.Device,
        };
        try
        {
            foreach (var status in entries)
            {
                if (status is not { } file || file.Device != top.Device || (file.Links > 1 && !file.IsDirectory && !linked.Add(file.Inode)))
                {
                    continue;
                }

                total += (long)file.Blocks * 512;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The job removed a directory while it was walked, or made a path too long to open: what was counted stands.
        }

        return total;
    }
}
