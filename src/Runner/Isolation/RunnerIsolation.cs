using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// The isolation this runner can give its jobs, probed once at start-up by really starting a job of each kind (never
/// assumed from the uid or the kernel version), then used for every job and reported by the health check and the
/// start-up log. Strongest first: a cgroup per job, else a PID namespace per job, else the /proc scan; and a uid per
/// job when the runner is root.
/// </summary>
internal sealed class RunnerIsolation : IDisposable
{
    /// <summary>The shim's file name beside the runner's assembly (built from jobexec.c).</summary>
    public const string ShimName = "logquota-jobexec";

    private readonly string? _shim;
    private readonly RunnerCgroup? _cgroup;
    private readonly JobUids? _uids;
    private readonly int _pidsMax;
    private RunnerMemoryGroup? _memory;
    private RunnerCpuGroup? _cpu;
    private long? _memoryMax;

    private RunnerIsolation(IsolationInfo info, string description, string? shim, RunnerCgroup? cgroup, JobUids? uids, int pidsMax, UserAccount? user)
    {
        Info = info;
        Description = description;
        _shim = shim;
        _cgroup = cgroup;
        _uids = uids;
        _pidsMax = pidsMax;
        JobUser = user;
    }

    /// <summary>The user every job runs as (<c>DSTACK_RUNNER_JOB_USER</c>); null when jobs get a uid each or share the runner's.</summary>
    public UserAccount? JobUser { get; }

    /// <summary>Whether jobs run under other uids than the runner's: then they must be able to reach their directories by path.</summary>
    public bool JobsRunAsOthers => Info.Users is IsolationUsers.PerJob or IsolationUsers.JobUser;

    public IsolationInfo Info { get; }

    /// <summary>The most of each resource one job may ask here (the health check's <c>resources</c>).</summary>
    public RunnerCapacity Capacity { get; private init; } = RunnerCapacity.None;

    /// <summary>The modes and why, in one line for the start-up log.</summary>
    public string Description { get; }

    /// <summary>The runner's cgroup, in cgroup mode.</summary>
    public RunnerCgroup? Cgroup => _cgroup;

    /// <summary>
    /// The kill modes strongest first: the order the start-up probe tries them in, from the strongest the settings allow
    /// (<see cref="RunnerSettings.KillModeLimit"/>). Written out, never taken from the enum's declaration order.
    /// </summary>
    private static readonly IsolationKill[] ProbeOrder = [IsolationKill.Cgroup, IsolationKill.PidNamespace, IsolationKill.ProcessScan];

    public static RunnerIsolation Probe(RunnerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return ProbeKillAndUsers(settings).WithResourceLimits(settings);
    }

    /// <summary>
    /// Adds the per-job memory and cpu groups where their controllers can be used: proved by a job that enters each
    /// group, as every probe here is. A runner without one runs without it and says why; the health check's
    /// <c>resources</c> then says a run cannot ask for it (<c>DSTACK_RUNNER_JOB_MEMORY_MAX</c> is a wish, not a promise).
    /// The per-job disk limit needs nothing of the kernel (the runner measures the files), so it is always in force.
    /// </summary>
    private RunnerIsolation WithResourceLimits(RunnerSettings settings)
    {
        var notes = new List<string>();
        RunnerMemoryGroup? memory = null;
        RunnerCpuGroup? cpu = null;
        if (_shim is null)
        {
            notes.Add("memory and cpus: no limits (no shim)");
        }
        else
        {
            memory = RunnerMemoryGroup.TryCreate(settings.Dir, out var whyNoMemory);
            if (memory is not null && TryLimitedJob(() => new JobSandbox(IsolationKill.ProcessScan, _shim, null, null, null) { Memory = memory.CreateJob(Guid.Empty, settings.JobMemoryMax ?? ProbeMemory) }) is { } memoryFailure)
            {
                memory.Dispose();
                memory = null;
                whyNoMemory = $"a job cannot enter its memory group: {memoryFailure}";
            }

            notes.Add(memory is null
                ? $"memory: no limit ({whyNoMemory})"
                : settings.JobMemoryMax is { } limit
                    ? $"memory: {limit} bytes per job, or less if a run asks (cgroup v1 {memory.Path})"
                    : $"memory: no limit unless a run asks (cgroup v1 {memory.Path})");

            cpu = RunnerCpuGroup.TryCreate(settings.Dir, out var whyNoCpu);
            if (cpu is not null && TryLimitedJob(() => new JobSandbox(IsolationKill.ProcessScan, _shim, null, null, null) { Cpu = cpu.CreateJob(Guid.Empty, 1) }) is { } cpuFailure)
            {
                cpu.Dispose();
                cpu = null;
                whyNoCpu = $"a job cannot enter its cpu group: {cpuFailure}";
            }

            notes.Add(cpu is null ? $"cpus: no limits ({whyNoCpu})" : $"cpus: limited if a run asks (cgroup v1 {cpu.Path})");
        }

        var gpus = GpuCount.Probe();
        notes.Add($"gpus: {gpus}");
        if (settings.JobDiskMax is { } disk)
        {
            notes.Add($"disk: {disk} bytes of files per job (measured every {JobDiskUsage.Period.TotalSeconds:0} s)");
        }

        var capacity = new RunnerCapacity(
            cpu is null ? null : Environment.ProcessorCount,
            memory is null ? null : settings.JobMemoryMax ?? HostMemory(),
            gpus);
        return new RunnerIsolation(Info with { MemoryMax = memory is null ? null : settings.JobMemoryMax, DiskMax = settings.JobDiskMax },
            $"{Description}, {string.Join(", ", notes)}", _shim, _cgroup, _uids, _pidsMax, JobUser)
        {
            _memory = memory, _cpu = cpu, _memoryMax = settings.JobMemoryMax, Capacity = capacity,
        };
    }

    /// <summary>
    /// <see cref="TryJob"/> in a sandbox with a limit's group, removed afterwards. Writing the limit may fail (a cpu quota
    /// above the one of the runner's own group is EINVAL in v1): then this runner cannot set that limit, and says why.
    /// </summary>
    private static string? TryLimitedJob(Func<JobSandbox> sandbox)
    {
        try
        {
            return TryJob(sandbox(), release: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"cannot set the limit ({e.Message.TrimEnd('.')})";
        }
    }

    /// <summary>The probe job's memory limit when no maximum is set: far above what <c>exit 0</c> needs.</summary>
    private const long ProbeMemory = 256L << 20;

    /// <summary>MemTotal of /proc/meminfo in bytes: the most a job on this host could be given.</summary>
    private static long? HostMemory()
    {
        var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
        var kib = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var number, "kB"]
            && long.TryParse(number, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : (long?)null;
        return kib * 1024;
    }

    private static RunnerIsolation ProbeKillAndUsers(RunnerSettings settings)
    {
        var shim = Path.Combine(AppContext.BaseDirectory, ShimName);
        var jobUser = settings.JobUser is { } name ? FindJobUser(name, shim) : null;
        if (!File.Exists(shim))
        {
            return new RunnerIsolation(new IsolationInfo(IsolationKill.ProcessScan, IsolationUsers.Shared),
                $"kill: process_scan, users: shared ({shim} is missing: the build found no C compiler)", null, null, null, 0, null);
        }

        JobUids? uids = null;
        string users;
        if (jobUser is not null)
        {
            var failure = TryJob(new JobSandbox(IsolationKill.ProcessScan, shim, null, jobUser));
            users = failure is null
                ? $"users: job_user ({jobUser.Name}: uid {jobUser.Uid}, gid {jobUser.Gid}, groups {string.Join(',', jobUser.Groups)}, home {jobUser.Home}{(Directory.Exists(jobUser.Home) ? "" : ", which does not exist: jobs cannot cd ~")})"
                : throw new SettingsException($"DSTACK_RUNNER_JOB_USER={jobUser.Name}: a job cannot run as that user: {failure}");
        }
        else if (Native.geteuid() != 0)
        {
            users = "users: shared (the runner is not root)";
        }
        else if (!settings.PerJobUidsAllowed)
        {
            users = "users: shared (per-job uids turned off)";
        }
        else
        {
            var candidate = new JobUids(settings.JobUids, settings.Dir);
            var failure = TryJob(new JobSandbox(IsolationKill.ProcessScan, shim, null, settings.JobUids.First, null, settings.JobPidsMax));
            uids = failure is null ? candidate : null;
            users = failure is null ? $"users: per_job (uids {settings.JobUids}), at most {settings.JobPidsMax} processes each (RLIMIT_NPROC)" : $"users: shared (a job cannot change uid: {failure})";
        }

        var probeUid = uids is null ? (uint?)null : settings.JobUids.First;
        var usersMode = jobUser is not null ? IsolationUsers.JobUser : uids is null ? IsolationUsers.Shared : IsolationUsers.PerJob;
        JobSandbox Sandbox(IsolationKill kill, JobCgroup? cgroup) => jobUser is null
            ? new JobSandbox(kill, shim, cgroup, probeUid, null, settings.JobPidsMax)
            : new JobSandbox(kill, shim, cgroup, jobUser);
        RunnerIsolation Chosen(IsolationKill kill, string how, RunnerCgroup? cgroup) =>
            new(new IsolationInfo(kill, usersMode), $"kill: {WireNames.Of(kill)} ({how}), {users}", shim, cgroup, uids, settings.JobPidsMax, jobUser);

        var why = new List<string>();
        var limit = settings.KillModeLimit ?? ProbeOrder[0];
        foreach (var kill in ProbeOrder[Array.IndexOf(ProbeOrder, limit)..])
        {
            switch (kill)
            {
                case IsolationKill.Cgroup:
                    if (RunnerCgroup.TryCreate(settings.Dir, out var whyNot) is { } cgroup)
                    {
                        var probe = cgroup.CreateJob(Guid.Empty, settings.JobPidsMax);
                        var failure = TryJob(Sandbox(kill, probe));
                        probe.TryRemove();
                        if (failure is null)
                        {
                            return Chosen(kill, $"{cgroup.Path}, {cgroup.PidsNote}", cgroup);
                        }

                        cgroup.Dispose();
                        whyNot = $"a job cannot enter its cgroup: {failure}";
                    }

                    why.Add($"no cgroup: {whyNot}");
                    break;
                case IsolationKill.PidNamespace:
                    if (TryJob(Sandbox(kill, null)) is not { } notInNamespace)
                    {
                        return Chosen(kill, string.Join("; ", why.Append("the job's shell is PID 1 of its own namespace")), null);
                    }

                    why.Add($"no PID namespace: {notInNamespace}");
                    break;
                default:
                    why.Add("processes are found by session, descent and the DSTACK_JOB_ID marker");
                    return Chosen(kill, string.Join("; ", why), null);
            }
        }

        throw new InvalidOperationException("The process scan ends the probe order.");
    }

    /// <summary>
    /// The sandbox of a new job: its cgroup created (with pids.max), its memory and cpu groups with the limits it asked
    /// (<paramref name="resources"/>, already checked against <see cref="Capacity"/>), a uid taken. Throws <see cref="JobStartException"/>.
    /// </summary>
    public JobSandbox CreateSandbox(Guid jobId, JobResources? resources = null)
    {
        var memoryLimit = resources?.Memory ?? _memoryMax;
        if (_shim is null)
        {
            return resources?.Memory is null && resources?.Cpus is null
                ? JobSandbox.Unconfined
                : throw new JobStartException("The job asks for a memory or cpu limit, and this runner has no shim to set one.");
        }

        if ((resources?.Memory is not null && _memory is null) || (resources?.Cpus is not null && _cpu is null))
        {
            throw new JobStartException($"The job asks for a limit this runner cannot set ({Description}).");
        }

        var uid = _uids?.Take();
        JobCgroup? cgroup = null;
        JobMemoryGroup? memory = null;
        try
        {
            cgroup = _cgroup?.CreateJob(jobId, _pidsMax);
            memory = memoryLimit is { } limit ? _memory?.CreateJob(jobId, limit) : null;
            var cpu = resources?.Cpus is { } cpus ? _cpu!.CreateJob(jobId, cpus) : null;
            return JobUser is null
                ? new JobSandbox(Info.Kill, _shim, cgroup, uid, _uids is null ? null : _uids.Release, _pidsMax) { Memory = memory, Cpu = cpu }
                : new JobSandbox(Info.Kill, _shim, cgroup, JobUser) { Memory = memory, Cpu = cpu };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (uid is { } taken)
            {
                _uids!.Release(taken);
            }

            cgroup?.TryRemove();
            memory?.TryRemove();
            throw new JobStartException($"Cannot create the job's cgroup: {e.Message}");
        }
    }

    /// <summary>The job user's account; throws <see cref="SettingsException"/> in one line when it cannot be used.</summary>
    private static UserAccount FindJobUser(string name, string shim)
    {
        if (Native.geteuid() != 0)
        {
            throw new SettingsException($"DSTACK_RUNNER_JOB_USER={name} is refused: only a runner running as root can run jobs as another user");
        }

        if (!File.Exists(shim))
        {
            throw new SettingsException($"DSTACK_RUNNER_JOB_USER={name} is refused: {shim} is missing (the build found no C compiler), and only it changes a job's user");
        }

        var user = UserAccount.Find(name) ?? throw new SettingsException($"DSTACK_RUNNER_JOB_USER={name} is not a user of this host");
        return user.Uid != 0 ? user : throw new SettingsException($"DSTACK_RUNNER_JOB_USER={name} is refused: jobs must not run as root (uid 0)");
    }

    /// <summary>Empties and removes the cgroups an earlier runner process left for jobs not in <paramref name="keep"/>.</summary>
    public List<Guid> SweepLeftovers(Func<Guid, bool> keep)
    {
        var left = _cgroup?.SweepLeftovers(keep) ?? [];
        _memory?.SweepLeftovers(keep);
        _cpu?.SweepLeftovers(keep);
        return left;
    }

    /// <summary>Kills the processes and removes the files left under the uids an earlier runner process on this directory held.</summary>
    public List<(uint Uid, int Killed, int Removed)> EraseLeftoverUids() => _uids?.ErasePredecessorsTraces() ?? [];

    public void Dispose()
    {
        _cgroup?.Dispose();
        _memory?.Dispose();
        _cpu?.Dispose();
    }

    /// <summary>Starts <c>exit 0</c> in <paramref name="sandbox"/> as a job would start; null when it ran and exited 0, else why not.</summary>
    /// <param name="sandbox">The sandbox to try.</param>
    /// <param name="release">Release the sandbox afterwards (remove its groups): a probe of a limit's group.</param>
    private static string? TryJob(JobSandbox sandbox, bool release = false)
    {
        try
        {
            var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
            using var process = ProcessSupervisor.Start(new JobLaunch("exit 0", env, "/", Tty: false, "DSTACK_JOB_ID=probe", sandbox));
            process.PumpOutput((_, _) => { }, TimeProvider.System);
            var status = process.WaitForExit();
            return status == 0 ? null : $"the probe job exited {status}";
        }
        catch (JobStartException e)
        {
            return e.Message;
        }
        finally
        {
            if (release)
            {
                sandbox.Release();
            }
        }
    }
}
