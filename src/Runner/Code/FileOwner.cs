using System.Runtime.ExceptionServices;
using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Code;

/// <summary>The user that files are created as: the job's uid and gid.</summary>
internal sealed record FileOwner(uint Uid, uint Gid)
{
    /// <summary>
    /// Runs <paramref name="body"/> on a thread of its own whose file-system credentials are this owner's: its
    /// fsuid and fsgid, and no supplementary group. Linux keeps those per thread, and a non-zero fsuid clears the
    /// thread's file capabilities (CAP_DAC_OVERRIDE, CAP_CHOWN, CAP_FOWNER...), so every file the body creates
    /// belongs to the owner and the kernel refuses whatever the owner itself could not do. Needs a root runner.
    /// The body must do synchronous I/O only: an await could continue on another thread, under the runner's own
    /// credentials. What the body needs the runtime to load lazily (an assembly, a native library) must be loaded
    /// before, as the runner: the owner may not be able to read the runner's installation. Exceptions of the body
    /// are rethrown here.
    /// </summary>
    public void Run(Action body)
    {
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                RunHere(body);
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = $"as-uid-{Uid}" };
        thread.Start();
        thread.Join();
        failure?.Throw();
    }

    private unsafe void RunHere(Action body)
    {
        var count = Native.getgroups(0, null);
        var groups = new uint[Math.Max(count, 0)];
        fixed (uint* list = groups)
        {
            count = Native.getgroups(groups.Length, list);
        }

        var droppedGroups = Native.SetThreadGroups([]);
        var previousGid = (uint)Native.setfsgid(Gid);
        var previousUid = (uint)Native.setfsuid(Uid);
        try
        {
            // setfsuid reports no error: an invalid id (-1) changes nothing and answers the current one.
            if ((uint)Native.setfsuid(uint.MaxValue) != Uid || (uint)Native.setfsgid(uint.MaxValue) != Gid)
            {
                throw new IOException($"cannot take the file-system identity of uid {Uid} (the runner must be root)");
            }

            body();
        }
        finally
        {
            _ = Native.setfsuid(previousUid);
            _ = Native.setfsgid(previousGid);
            if (droppedGroups)
            {
                Native.SetThreadGroups(groups.AsSpan(0, Math.Max(count, 0)));
            }
        }
    }
}
