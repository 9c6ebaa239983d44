using LogQuota.Runner.Execution;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// How the processes of one started job are signalled and killed: one implementation per kill mode
/// (<see cref="CgroupKill"/>, <see cref="PidNamespaceKill"/>, <see cref="ProcessScanKill"/>), bound to the job's main
/// process by <see cref="JobSandbox.BindKill"/> once it is spawned.
/// </summary>
internal interface IJobKill
{
    /// <summary>Sends <paramref name="signal"/> once to every live process of the job.</summary>
    void Signal(int signal);

    /// <summary>SIGKILLs every process of the job and returns once none is left (or the mode's deadline passed). Returns the kill rounds.</summary>
    int KillAll();
}

/// <summary>
/// The process scan: the job's processes are found in <c>/proc</c> by session, descent from the main process and the
/// job's marker in the environment (and by uid, when the job has one of its own). Sound in every mode, so the other modes
/// fall back to it when theirs did not finish.
/// </summary>
/// <param name="pid">The job's main process: its session and process group id.</param>
/// <param name="marker">The <c>NAME=value</c> entry every process of the job inherits.</param>
/// <param name="startTime">The main process's start time, so a reused pid is never taken for it.</param>
/// <param name="ownUid">The job's uid when no other process has it; null otherwise.</param>
internal sealed class ProcessScanKill(int pid, string marker, ulong startTime, uint? ownUid) : IJobKill
{
    public void Signal(int signal)
    {
        _ = Native.kill(-pid, signal);
        foreach (var member in ProcessTree.FindMembers(pid, marker, startTime, ownUid))
        {
            _ = Native.kill(member, signal);
        }
    }

    public int KillAll() => ProcessTree.KillAll(pid, marker, startTime, ownUid);
}

/// <summary>The job's cgroup v2 group: every process in it is signalled through <c>cgroup.procs</c> and killed through <c>cgroup.kill</c>.</summary>
/// <param name="pid">The job's main process: its process group is signalled too.</param>
/// <param name="scan">The fallback when the group does not empty within its deadline (never expected).</param>
internal sealed class CgroupKill(int pid, JobCgroup cgroup, ProcessScanKill scan) : IJobKill
{
    public void Signal(int signal)
    {
        _ = Native.kill(-pid, signal);
        cgroup.Signal(signal);
    }

    public int KillAll() => cgroup.KillAndWaitEmpty() ? 1 : scan.KillAll();
}
