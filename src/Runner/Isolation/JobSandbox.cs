using System.Globalization;
using System.Text;
using LogQuota.Runner.Execution;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// What one job runs inside: its kill mode (its cgroup, its PID namespace, or the process scan; <see cref="BindKill"/>), its uid, and
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

    /// <summary>A job run as <paramref name="user"/> (<c>DSTACK_RUNNER_JOB_USER</c>): its uid, gid and groups, shared with every other job.</summary>
    public JobSandbox(IsolationKill kill, string shimPath, JobCgroup? cgroup, UserAccount user)
        : this(kill, shimPath, cgroup, user.Uid, null)
    {
        User = user;
    }

    /// <summary>No shim: the job's shell is spawned directly and found by the process scan, under the runner's uid.</summary>
    public static JobSandbox Unconfined { get; } = new(IsolationKill.ProcessScan, null, null, null, null);

    public IsolationKill Kill { get; }

    /// <summary>The shim to spawn in place of the shell; null spawns the shell directly.</summary>
    public string? ShimPath { get; }

    public JobCgroup? Cgroup { get; }

    /// <summary>The job's memory group, where a per-job memory limit is in force.</summary>
    public JobMemoryGroup? Memory { get; init; }

    /// <summary>The job's cpu group, where the run asked for <c>resources.cpus</c>.</summary>
    public V1JobGroup? Cpu { get; init; }

    /// <summary>The uid the job runs as: its own (gid the same number), or the job user's; null runs it under the runner's.</summary>
    public uint? Uid { get; }

    /// <summary>The job user every job runs as, when one is set; its uid is then no job's alone.</summary>
    public UserAccount? User { get; }

    /// <summary>The job's uid when no other process has it: every process under it is the job's, wherever it went.</summary>
    private uint? OwnUid => User is null ? Uid : null;

    /// <summary>RLIMIT_NPROC of the job's own uid (0: none); ignored without <see cref="Uid"/> (see jobexec.c).</summary>
    public int ProcessLimit { get; }

    /// <summary>The shim's options, before the shell's path and arguments (see jobexec.c).</summary>
    /// <param name="subdirectory">A relative directory to create and enter as the job's user (<c>-w</c>); null: none.</param>
    public List<string> ShimArguments(string? subdirectory = null)
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

        if (Cpu is not null)
        {
            args.AddRange(["-c", Cpu.ProcsPath]);
        }

        if (Kill == IsolationKill.PidNamespace)
        {
            args.Add("-p");
        }

        if (User is { } user)
        {
            // No -n: RLIMIT_NPROC counts every process of the real uid, and the job user's uid is shared by all jobs and
            // by the user's own sessions, so a limit would let one job's processes make another's fork fail.
            args.AddRange(["-G", string.Join(',', user.Groups.Select(g => g.ToString(CultureInfo.InvariantCulture)))]);
            args.AddRange(["-u", string.Create(CultureInfo.InvariantCulture, $"{user.Uid}:{user.Gid}")]);
        }
        else if (Uid is { } uid)
        {
            if (ProcessLimit > 0)
            {
                args.AddRange(["-n", ProcessLimit.ToString(CultureInfo.InvariantCulture)]);
            }

            args.AddRange(["-u", uid.ToString(CultureInfo.InvariantCulture)]);
        }

        if (subdirectory is not null)
        {
            args.AddRange(["-w", subdirectory]);
        }

        return args;
    }

    /// <summary>Gives <paramref name="path"/> to the job's uid and gid (its directories, its terminal); nothing when it has none.</summary>
    public unsafe void Own(string path)
    {
        if (Uid is not { } uid)
        {
            return;
        }

        var gid = User?.Gid ?? uid;
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (Native.chown(p, uid, gid) != 0)
            {
                throw new JobStartException($"Cannot give {path} to the job's uid {uid}: {Native.Describe(System.Runtime.InteropServices.Marshal.GetLastPInvokeError())}");
            }
        }
    }

    /// <summary>
    /// The kill of the job whose main process <paramref name="pid"/> (started at <paramref name="startTime"/>, its
    /// processes marked with <paramref name="marker"/>) was just spawned in this sandbox: this sandbox's mode's.
    /// </summary>
    public IJobKill BindKill(int pid, string marker, ulong startTime)
    {
        var scan = new ProcessScanKill(pid, marker, startTime, OwnUid);
        return Kill switch
        {
            IsolationKill.Cgroup => new CgroupKill(pid, Cgroup!, scan),
            IsolationKill.PidNamespace => new PidNamespaceKill(pid, scan),
            _ => scan,
        };
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
        Cpu?.TryRemove();
        if (Uid is { } uid)
        {
            _releaseUid?.Invoke(uid);
        }
    }
}
