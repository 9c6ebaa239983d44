using System.Collections.Concurrent;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;
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
}

/// <summary>
/// The jobs this runner holds, by id. Starts them, hands out pulls, stops and forgets them, and
/// drives the unfinished-line timer of every running job.
/// </summary>
internal sealed class JobRegistry : IDisposable
{
    /// <summary>How often held lines are checked against their 30 s staleness (SPEC §2); a second is precise enough.</summary>
    private static readonly TimeSpan FlushTick = TimeSpan.FromSeconds(1);

    /// <summary>Variables of the runner's own environment that a job never inherits: LogQuota's settings, tokens among them.</summary>
    private const string ReservedPrefix = "DSTACK_";

    private readonly ConcurrentDictionary<Guid, Job> _jobs = new();
    private readonly Lock _submitLock = new();
    private readonly RunnerSettings _settings;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggers;
    private readonly ITimer _flushTimer;
    private bool _takingWork = true;

    /// <summary>Submits between their registration and the end of their process start; a shutdown waits for them.</summary>
    private int _starting;

    public JobRegistry(RunnerSettings settings, TimeProvider time, ILoggerFactory loggers)
    {
        _settings = settings;
        _time = time;
        _loggers = loggers;
        Directory.CreateDirectory(JobsDirectory);
        _flushTimer = time.CreateTimer(_ => FlushStaleLines(), null, FlushTick, FlushTick);
    }

    private string JobsDirectory => Path.Combine(_settings.Dir, "jobs");

    public Job? Find(Guid jobId) => _jobs.GetValueOrDefault(jobId);

    /// <summary>Starts the job unless its id is known: the same body again is a no-op, another body a conflict.</summary>
    public (SubmitOutcome Outcome, Job? Job) Submit(SubmitBody body)
    {
        Job job;
        lock (_submitLock)
        {
            if (_jobs.TryGetValue(body.JobId, out var existing))
            {
                return (SubmitBodies.Equal(existing.Body, body) ? SubmitOutcome.AlreadyKnown : SubmitOutcome.Conflict, existing);
            }

            if (!_takingWork)
            {
                // Checked under the submit lock: once StopTakingWork returned, no job can start any more.
                return (SubmitOutcome.ShuttingDown, null);
            }

            var directory = Path.Combine(JobsDirectory, body.JobId.ToString("N"));
            if (Directory.Exists(directory))
            {
                // Left by an earlier runner process on the same directory: that job is gone.
                Directory.Delete(directory, recursive: true);
            }

            job = new Job(body, directory, _time, _loggers.CreateLogger<Job>());
            _jobs[body.JobId] = job;
            Interlocked.Increment(ref _starting);
        }

        try
        {
            job.Start(BuildLaunch(job));
        }
        finally
        {
            Interlocked.Decrement(ref _starting);
        }

        return (SubmitOutcome.Started, job);
    }

    private static JobLaunch BuildLaunch(Job job)
    {
        var spec = job.Body.JobSpec;
        var workingDir = spec.WorkingDir ?? Path.Combine(job.Directory, "work");
        if (spec.WorkingDir is null)
        {
            Directory.CreateDirectory(workingDir);
        }

        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (!key.StartsWith(ReservedPrefix, StringComparison.Ordinal))
            {
                env[key] = (string?)entry.Value ?? string.Empty;
            }
        }

        if (spec.Tty)
        {
            env["TERM"] = "xterm-256color";
        }

        foreach (var (key, value) in spec.Env ?? new Dictionary<string, string>())
        {
            env[key] = value;
        }

        var marker = Marker(job.Id);
        env["DSTACK_RUN_NAME"] = job.Body.Run.RunName;
        env["DSTACK_JOB_ID"] = job.Id.ToString();
        return new JobLaunch(string.Join(" && ", spec.Commands), env, workingDir, spec.Tty, marker);
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
            job.Dispose();
            try
            {
                Directory.Delete(job.Directory, recursive: true);
            }
            catch (IOException)
            {
                // A file the job left open by a process that escaped; the next start on this directory cleans it.
            }
        }

        return true;
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
        var leftovers = new List<Guid>();
        foreach (var directory in System.IO.Directory.EnumerateDirectories(JobsDirectory))
        {
            if (!Guid.TryParseExact(Path.GetFileName(directory), "N", out var jobId) || _jobs.ContainsKey(jobId))
            {
                continue;
            }

            var killed = ProcessTree.KillMarked(Marker(jobId));
            try
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // Retried by the next start, or by a submit of the same job id.
            }

            leftovers.Add(jobId);
            _loggers.CreateLogger<JobRegistry>().LogWarning(
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

    /// <summary>The environment entry every process of a job inherits; how its processes are found even when reparented.</summary>
    private static string Marker(Guid jobId) => $"DSTACK_JOB_ID={jobId}";

    private void FlushStaleLines()
    {
        foreach (var job in _jobs.Values)
        {
            if (!job.Finished.IsCompleted)
            {
                try
                {
                    job.StoreStaleLines();
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
        foreach (var job in _jobs.Values)
        {
            job.Dispose();
        }
    }
}

/// <summary>Structural equality of submit bodies, for idempotent submits (the env map compared as a set).</summary>
internal static class SubmitBodies
{
    public static bool Equal(SubmitBody a, SubmitBody b)
    {
        var (x, y) = (a.JobSpec, b.JobSpec);
        return a.JobId == b.JobId && a.Run == b.Run
            && x.Commands.SequenceEqual(y.Commands)
            && EnvEqual(x.Env, y.Env)
            && x.WorkingDir == y.WorkingDir && x.MaxDuration == y.MaxDuration
            && x.LogQuotaHour == y.LogQuotaHour && x.Tty == y.Tty;
    }

    private static bool EnvEqual(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b)
    {
        a ??= new Dictionary<string, string>();
        b ??= new Dictionary<string, string>();
        return a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);
    }
}
