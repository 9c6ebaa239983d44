using System.Collections.Concurrent;
using LogQuota.Runner.Code;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;
using LogQuota.Runner.Metrics;
using LogQuota.Runner.Slurm;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>The outcome of a submit.</summary>
internal enum SubmitOutcome
{
    Started,
    AlreadyKnown,
    Conflict,

    /// <summary>The runner is shutting down and takes no new job.</summary>
    ShuttingDown,

    /// <summary>The job names a code archive this runner does not hold.</summary>
    CodeMissing,
}

/// <summary>
/// The jobs this runner holds, by id. Starts them, hands out pulls, stops and forgets them, and
/// drives the unfinished-line timer of every running job.
/// </summary>
internal sealed class JobRegistry : IDisposable
{
    /// <summary>How often held lines are checked against their 30 s staleness (SPEC §2); a second is precise enough.</summary>
    private static readonly TimeSpan FlushTick = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<Guid, Job> _jobs = new();
    private readonly Lock _submitLock = new();
    private readonly RunnerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ITimer _flushTimer;
    private readonly RunnerIsolation _isolation;
    private readonly bool _ownsIsolation;
    private readonly RunnerMetrics? _metrics;
    private readonly JobDirectories _directories;
    private readonly JobPreparation _preparation;

    /// <summary>Runs the jobs through Slurm (<c>DSTACK_RUNNER_EXECUTOR=slurm</c>); null runs them on this host.</summary>
    private readonly SlurmExecutor? _slurm;
    private bool _takingWork = true;

    /// <summary>Submits between their registration and the end of their process start; a shutdown waits for them.</summary>
    private int _starting;

    /// <param name="isolation">The runner's probed isolation; null probes it here and owns it.</param>
    /// <param name="metrics">The runner's instruments; null counts nothing.</param>
    public JobRegistry(RunnerSettings settings, TimeProvider time, ILoggerFactory loggers, RunnerIsolation? isolation = null, RunnerMetrics? metrics = null)
    {
        _settings = settings;
        _time = time;
        _loggers = loggers;
        _ownsIsolation = isolation is null;
        _isolation = isolation ?? RunnerIsolation.Probe(settings);

        // Spools: the runner's alone (0700). The jobs' own directories are elsewhere (JobDirectories), so nothing of the
        // runner's directory needs to be reachable by a job's uid.
        FileModes.CreateDirectory(JobsDirectory, FileModes.Private);
        _directories = new JobDirectories(settings, _isolation);
        RemoveOldHomes();

        Stream = new Streaming.RunnerStream(time);
        Code = new CodeArchives(Path.Combine(settings.Dir, "code"), time, settings.CodeMaxUnpacked);
        _slurm = settings.Executor == RunnerExecutor.Slurm ? new SlurmExecutor(settings, time, loggers.CreateLogger<SlurmExecutor>()) : null;
        _preparation = new JobPreparation(_isolation, _directories,
            new JobEnvironment(Environment.GetEnvironmentVariables(), settings.JobEnvPass), Code, settings.CodeMaxUnpacked, _slurm);
        _flushTimer = time.CreateTimer(_ => FlushStaleLines(), null, FlushTick, FlushTick);
        _metrics = metrics;
        metrics?.Observe(this);
    }

    private string JobsDirectory => Path.Combine(_settings.Dir, "jobs");

    /// <summary>The runner-wide sequence of what the jobs produce (<c>GET /api/pull</c>).</summary>
    public Streaming.RunnerStream Stream { get; }

    /// <summary>The code archives this runner holds for its jobs.</summary>
    public CodeArchives Code { get; }

    /// <summary>What the health check and the start-up log report.</summary>
    public RunnerIsolation Isolation => _isolation;

    /// <summary>Where the jobs' own directories are (<c>DSTACK_RUNNER_WORK_DIR</c>), for the start-up log.</summary>
    public string WorkDir => _directories.WorkDir;

    /// <summary>The most one job may ask here: the isolation's, or no bound of the runner's own under Slurm, which decides.</summary>
    public RunnerCapacity Capacity => _slurm is null ? _isolation.Capacity : SlurmExecutor.Capacity;

    /// <summary>The Slurm partitions a run may name; null when jobs do not run through Slurm.</summary>
    public IReadOnlyList<string>? SlurmPartitions => _slurm?.Partitions;

    public Job? Find(Guid jobId) => _jobs.GetValueOrDefault(jobId);

    /// <summary>The jobs held now, for the metrics' gauges.</summary>
    public ICollection<Job> Jobs => _jobs.Values;

    /// <summary>Starts the job unless its id is known: the same body again is a no-op, another body a conflict.</summary>
    public (SubmitOutcome Outcome, Job? Job) Submit(SubmitBody body)
    {
        Job job;
        lock (_submitLock)
        {
            if (_jobs.TryGetValue(body.JobId, out var existing))
            {
                return (existing.Body == body ? SubmitOutcome.AlreadyKnown : SubmitOutcome.Conflict, existing);
            }

            if (!_takingWork)
            {
                // Checked under the submit lock: once StopTakingWork returned, no job can start any more.
                return (SubmitOutcome.ShuttingDown, null);
            }

            // Under the submit lock, which sweeps take too: once registered, the job holds its archive.
            if (body.JobSpec.CodeHash is { } codeHash && !Code.Claim(codeHash))
            {
                return (SubmitOutcome.CodeMissing, null);
            }

            var directory = Path.Combine(JobsDirectory, body.JobId.ToString("N"));
            if (Directory.Exists(directory))
            {
                // Left by an earlier runner process on the same directory: that job is gone. Its work directory is
                // made afresh by JobPreparation.
                Directory.Delete(directory, recursive: true);
            }

            var disk = _settings.JobDiskMax is { } limit ? new JobDiskUsage(_directories.RootOf(body.JobId), limit) : null;
            job = new Job(body, directory, _time, _loggers.CreateLogger<Job>(), _metrics, disk) { Changed = Stream.Changed };
            _jobs[body.JobId] = job;
            Interlocked.Increment(ref _starting);
        }

        try
        {
            void Start() => job.Start(cancellationToken => _preparation.Prepare(job, cancellationToken));
            if (body.JobSpec.CodeHash is null && _slurm is null)
            {
                Start();
            }
            else
            {
                // Unpacking a large tree takes longer than the server waits for a submit's answer (5 s): the submit
                // answers now, and the job's first state comes once its process runs. A stop meanwhile cancels it.
                new Thread(Start) { IsBackground = true, Name = $"job-start-{job.Id:N}" }.Start();
            }
        }
        finally
        {
            Interlocked.Decrement(ref _starting);
        }

        return (SubmitOutcome.Started, job);
    }

    /// <summary>Forgets a finished job and removes its directory. False when the job is still running.</summary>
    public bool TryDelete(Job job)
    {
        if (!job.Finished.IsCompleted)
        {
            return false;
        }

        if (_jobs.TryRemove(job.Id, out _))
        {
            Stream.Forget(job.Id);
            job.Dispose();

            // The work directory first: while its spool remains, the next start on this directory finds the job and
            // removes what is left of it (a file held open by a process that escaped).
            if (_directories.TryDelete(job.Id))
            {
                try
                {
                    Directory.Delete(job.Directory, recursive: true);
                }
                catch (DirectoryNotFoundException)
                {
                }
                catch (IOException)
                {
                }
            }

            if (job.Body.JobSpec.CodeHash is not null)
            {
                SweepCode();
            }
        }

        return true;
    }

    /// <summary>Deletes the code archives no held job names; under the submit lock, so that no submit claims one meanwhile.</summary>
    private int SweepCode(bool startup = false)
    {
        lock (_submitLock)
        {
            return Code.Sweep(_jobs.Values.Select(j => j.Body.JobSpec.CodeHash).OfType<string>().ToHashSet(StringComparer.Ordinal), startup);
        }
    }

    /// <summary>
    /// The first step of a shutdown: from now on a submit of a new job answers <see cref="SubmitOutcome.ShuttingDown"/>.
    /// Known jobs are still pulled, stopped and deleted as before. Returns once every job accepted before has its
    /// process started, so a stop that follows reaches all of them.
    /// </summary>
    public void StopTakingWork()
    {
        lock (_submitLock)
        {
            _takingWork = false;
        }

        // A start is one posix_spawn: microseconds to milliseconds.
        SpinWait.SpinUntil(() => Volatile.Read(ref _starting) == 0);
    }

    /// <summary>
    /// Kills what a runner process that died without shutting down (SIGKILL, crash, power loss) left behind on this
    /// directory: the processes of each job it held, found by the job's environment marker since they were
    /// reparented away from any tree, and the job's directory. Nobody can pull or stop those jobs any more; the
    /// server learns of their end from the 404 this runner answers for them.
    /// </summary>
    /// <returns>The ids of the jobs that were left behind.</returns>
    public List<Guid> EndLeftoversOfEarlierProcess()
    {
        var logger = _loggers.CreateLogger<JobRegistry>();

        // First the groups: a cgroup's kill reaches every process of the job, also one that escaped the scan below.
        var leftovers = new List<Guid>();
        foreach (var jobId in _isolation.SweepLeftovers(_jobs.ContainsKey))
        {
            logger.LogWarning("Job {JobId} was left by an earlier runner process; its cgroup was emptied and removed", jobId);
        }

        _slurm?.EndLeftovers(_jobs.ContainsKey);
        if (SweepCode(startup: true) is var swept and > 0)
        {
            logger.LogInformation("{Count} code archives no job names any more were deleted", swept);
        }

        // Then the uids: every process of a job under its own uid is found by that uid, also one that cleared its
        // environment and left its session (a PID namespace's PID 1 after `exec env -i`).
        foreach (var (uid, killed, removed) in _isolation.EraseLeftoverUids())
        {
            logger.LogWarning("Uid {Uid} was held by a job of an earlier runner process: {Killed} processes killed, {Removed} files removed from the shared temporary directories", uid, killed, removed);
        }

        // By the spools: the work directory may be shared with other runners (DSTACK_RUNNER_WORK_DIR), whose jobs'
        // directories are theirs; a job's spool lives until its work directory is gone (TryDelete).
        var directories = System.IO.Directory.EnumerateDirectories(JobsDirectory);
        foreach (var jobId in directories.Select(d => Guid.TryParseExact(Path.GetFileName(d), "N", out var id) ? id : Guid.Empty).Distinct().ToList())
        {
            if (jobId == Guid.Empty || _jobs.ContainsKey(jobId))
            {
                continue;
            }

            var killed = ProcessTree.KillMarked(Marker(jobId));
            if (_directories.TryDelete(jobId))
            {
                try
                {
                    System.IO.Directory.Delete(Path.Combine(JobsDirectory, jobId.ToString("N")), recursive: true);
                }
                catch (IOException)
                {
                    // Retried by the next start, or by a submit of the same job id.
                }
            }

            leftovers.Add(jobId);
            logger.LogWarning(
                "Job {JobId} was left by an earlier runner process; {Killed} of its processes were still alive and were killed",
                jobId, killed);
        }

        return leftovers;
    }

    /// <summary>
    /// The drain of a shutdown: waits until the server has collected and deleted every job this runner holds, or until
    /// <paramref name="period"/> has passed. Pulls are answered all the while. True when no job is left.
    /// </summary>
    public async Task<bool> WaitUntilEmptyAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        while (!_jobs.IsEmpty)
        {
            if (_time.GetElapsedTime(start) >= period)
            {
                return false;
            }

            // 100 ms: a tenth of the server's default poll interval, so the runner exits soon after the last delete.
            await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
        }

        return true;
    }

    /// <summary>The jobs this runner still holds, finished or not.</summary>
    public int Count => _jobs.Count;

    /// <summary>Stops every running job (runner shutdown) and waits for them, at most the grace period and a little.</summary>
    public async Task StopAllAsync(string message)
    {
        var running = _jobs.Values.Where(j => !j.Finished.IsCompleted).ToList();
        foreach (var job in running)
        {
            job.Stop(TerminationReason.TerminatedByServer, message);
        }

        await Task.WhenAll(running.Select(j => j.Finished)).WaitAsync(Job.StopGracePeriod + TimeSpan.FromSeconds(5));
    }

    /// <summary>
    /// Removes <c>homes/</c>, where runners before the work directory kept the jobs' homes, and takes back the search
    /// permission for others they gave the runner's directory: nothing of it needs to be reachable by a job now.
    /// </summary>
    private void RemoveOldHomes()
    {
        var homes = Path.Combine(_settings.Dir, "homes");
        if (Directory.Exists(homes))
        {
            try
            {
                Directory.Delete(homes, recursive: true);
                FileModes.Set(_settings.Dir, FileModes.Private);
            }
            catch (IOException)
            {
                // Held by a process of a job that escaped; the next start removes it.
            }
        }
    }

    /// <summary>The environment entry every process of a job inherits; how its processes are found even when reparented.</summary>
    internal static string Marker(Guid jobId) => $"DSTACK_JOB_ID={jobId}";

    private void FlushStaleLines()
    {
        foreach (var job in _jobs.Values)
        {
            if (!job.Finished.IsCompleted)
            {
                try
                {
                    job.Tick();
                }
                catch (Exception e)
                {
                    // A timer callback that throws ends the process; one job's failure must not end the others.
                    _loggers.CreateLogger<JobRegistry>().LogError(e, "Job {JobId}: storing its stale lines failed", job.Id);
                }
            }
        }
    }

    public void Dispose()
    {
        _flushTimer.Dispose();
        _slurm?.Dispose();
        foreach (var job in _jobs.Values)
        {
            job.Dispose();
        }

        if (_ownsIsolation)
        {
            _isolation.Dispose();
        }
    }
}
