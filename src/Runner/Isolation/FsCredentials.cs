using System.Runtime.InteropServices;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// Runs file-system work as another uid without a process of its own: Linux keeps the file-system uid and gid per
/// thread, so a dedicated thread that calls setfsuid/setfsgid is checked by the kernel exactly as that user would be
/// (its writes, unlinks and permission checks), while the runner's other threads stay root. The work must be
/// synchronous: an await could resume on a thread with other credentials.
/// </summary>
internal static partial class FsCredentials
{
    /// <summary>Runs <paramref name="work"/> on a new thread whose file-system credentials are <paramref name="uid"/>:<paramref name="gid"/>.</summary>
    public static void Run(uint uid, uint gid, Action work)
    {
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            // setfsgid first: once the fsuid is not root, the thread may no longer change its fsgid.
            var previousGid = setfsgid(gid);
            var previousUid = setfsuid(uid);
            try
            {
                if ((uint)setfsuid(uint.MaxValue) != uid || (uint)setfsgid(uint.MaxValue) != gid)
                {
                    throw new IOException($"cannot act as uid {uid} (setfsuid/setfsgid refused: the runner is not root)");
                }

                work();
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                _ = setfsuid((uint)previousUid);
                _ = setfsgid((uint)previousGid);
            }
        })
        {
            IsBackground = true,
            Name = "logquota-fs-as-job",
        };
        thread.Start();
        thread.Join();
        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Sets the thread's fsuid; returns the previous one. Passing an invalid id (-1) only reads it.</summary>
    [LibraryImport("libc")]
    private static partial int setfsuid(uint fsuid);

    [LibraryImport("libc")]
    private static partial int setfsgid(uint fsgid);
}
