using System.Globalization;
using System.Text;
using LogQuota.Runner.Execution;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// What one job runs inside: its kill mechanism (its cgroup, its PID namespace, or the process scan), its uid, and
/// the shim that puts it there before its first instruction. Made by <see cref="RunnerIsolation.CreateSandbox"/>,
/// released once the job has ended and its processes are gone.
/// </summary>
internal sealed class JobSandbox
{
    private readonly Action<uint>? _releaseUid;
    private int _released;

    public JobSandbox(IsolationKill kill, string? shimPath, JobCgroup? cgroup, uint? uid, Action<uint>? releaseUid, int processLimit = 0)
    {
        Kill = kill;
        ProcessLimit = processLimit;
        ShimPath = shimPath;
        Cgroup = cgroup;
        Uid = uid;
        _releaseUid = releaseUid;
    }

    /// <summary>
    /// Every job process starts with this <c>oom_score_adj</c> (SPEC §7), as the kubelet gives pods: under memory
    /// pressure the kernel kills a job, never the server or the runner (which lower theirs to
    /// <see cref="LogQuota.Shared.Hosting.ProcessHardening.ServiceOomScoreAdj"/>).
    /// </summary>
    public const string JobOomScoreAdj = "800";

    /// <summary>No shim: the job's shell is spawned directly and found by the process scan, under the runner's uid.</summary>
    public static JobSandbox Unconfined { get; } = new(IsolationKill.ProcessScan, null, null, null, null);

    public IsolationKill Kill { get; }

    /// <summary>The shim to spawn in place of the shell; null spawns the shell directly.</summary>
    public string? ShimPath { get; }

    public JobCgroup? Cgroup { get; }

    /// <summary>The job's memory group, where a per-job memory limit is in force.</summary>
    public JobMemoryGroup? Memory { get; init; }

    /// <summary>The job's own uid (and gid); null runs it under the runner's.</summary>
    public uint? Uid { get; }

    /// <summary>RLIMIT_NPROC of the job's own uid (0: none); ignored without <see cref="Uid"/> (see jobexec.c).</summary>
    public int ProcessLimit { get; }

    /// <summary>The shim's options, before the shell's path and arguments (see jobexec.c).</summary>
    public List<string> ShimArguments()
    {
        var args = new List<string> { "-s", "-o", JobOomScoreAdj };
        if (Cgroup is not null)
        {
            args.AddRange(["-g", Cgroup.ProcsPath]);
        }

        if (Memory is not null)
        {
            args.AddRange(["-m", Memory.ProcsPath]);
        }

        if (Kill == IsolationKill.PidNamespace)
        {
            args.Add("-p");
        }

        if (Uid is { } uid)
        {
            if (ProcessLimit > 0)
            {
                args.AddRange(["-n", ProcessLimit.ToString(CultureInfo.InvariantCulture)]);
            }

            args.AddRange(["-u", uid.ToString(CultureInfo.InvariantCulture)]);
        }

        return args;
    }

    /// <summary>Gives <paramref name="path"/> to the job's uid (its home, its terminal); nothing when it has none.</summary>
    public unsafe void Own(string path)
    {
        if (Uid is not { } uid)
        {
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (Native.chown(p, uid, uid) != 0)
            {
                throw new JobStartException($"Cannot give {path} to the job's uid {uid}: {Native.Describe(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
            }
        }
    }

    /// <summary>SIGKILLs every process of the job and returns once none is left (or the mechanism's deadline passed). Returns the kill rounds.</summary>
    public int KillAll(int pid, string marker, ulong startTime)
    {
        switch (Kill)
        {
            case IsolationKill.Cgroup when Cgroup!.KillAndWaitEmpty():
                return 1;
            case IsolationKill.PidNamespace when PidNamespaceKill.KillAndWait(pid):
                return 1;
            default:
                // The scan mode, or the rare case above that did not finish: the scan is still sound.
                return ProcessTree.KillAll(pid, marker, startTime, Uid);
        }
    }

    /// <summary>Sends <paramref name="signal"/> once to every live process of the job.</summary>
    public void SignalAll(int pid, int signal, string marker, ulong startTime)
    {
        _ = Native.kill(-pid, signal);
        if (Cgroup is not null)
        {
            Cgroup.Signal(signal);
            return;
        }

        // In a PID namespace every process descends from its PID 1, so the scan's descent test finds them all.
        foreach (var member in ProcessTree.FindMembers(pid, marker, startTime, Uid))
        {
            _ = Native.kill(member, signal);
        }
    }

    /// <summary>Removes the job's cgroup and returns its uid to the pool. Once; after the job's processes are gone.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        Cgroup?.TryRemove();
        Memory?.TryRemove();
        if (Uid is { } uid)
        {
            _releaseUid?.Invoke(uid);
        }
    }
}
