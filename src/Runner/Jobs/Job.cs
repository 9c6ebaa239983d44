using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;
using LogQuota.Runner.Logs;
using LogQuota.Runner.Metrics;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// One job on this runner: its process's lifecycle (prepare, start, supervise, stop, kill, end). What the process
/// writes enters here once, on the output thread, and goes down the output path (<see cref="JobOutput"/>: terminal,
/// quota) into the journal (<see cref="JobJournal"/>: spool, states, events, pulls). How the job is being ended is one
/// value (<see cref="JobEnding"/>). Everything happens under <see cref="_lock"/>, so timestamps are strictly increasing
/// across logs, states and events, and a pull sees a consistent snapshot.
/// </summary>
internal sealed partial class Job : IDisposable
{
    /// <summary>SIGTERM → SIGKILL grace period for stop and max duration (SPEC §3).</summary>
    public static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly JobJournal _journal;
    private readonly JobOutput _output;
    private readonly JobDiskUsage? _disk;
    private readonly RunnerMetrics? _metrics;
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ProcessSupervisor? _process;
    private ITimer? _maxDurationTimer;
    private ITimer? _killTimer;
    private ITimer? _diskTimer;

    /// <summary>Why the job is being ended before it ends by itself; null while it runs its course.</summary>
    private volatile JobEnding? _ending;

    /// <summary>Cancelled by a stop (or the runner's end) that comes while the job is prepared, before its process exists.</summary>
    private readonly CancellationTokenSource _preparing = new();

    /// <param name="disk">The job's disk limit (<c>DSTACK_RUNNER_JOB_DISK_MAX</c>); null without one.</param>
    public Job(SubmitBody body, string directory, TimeProvider time, ILogger logger, RunnerMetrics? metrics = null, JobDiskUsage? disk = null)
    {
        Body = body;
        _metrics = metrics;
        Directory = directory;
        _time = time;
        _logger = logger;
        _disk = disk;
        // 0700, spool 0600 (SPEC §7): the runner's alone, whatever the umask; jobs under other uids cannot even list it.
        FileModes.CreateDirectory(directory, FileModes.Private);
        _journal = new JobJournal(body.JobId, Path.Combine(directory, "log.spool"), time, logger, bytes =>
        {
            if (bytes > 0)
            {
                _metrics?.Stored(body.JobSpec.Tty, bytes);
            }

            Changed?.Invoke(this);
        });
        _output = new JobOutput(body.JobSpec, _journal, time, EndByFault, SecretMask.For(body.Secrets?.Values));
    }

    public SubmitBody Body { get; }

    /// <summary>Told of every change a pull would answer (a stored event or state, a new live region): the runner's stream.</summary>
    public Action<Job>? Changed { get; init; }

    /// <summary>The job's own directory: spool and default working directory.</summary>
    public string Directory { get; }

    public Guid Id => Body.JobId;

    /// <summary>Bytes of the job's spool file on disk.</summary>
    public long SpoolBytes => _journal.SpoolBytes;

    /// <summary>
    /// The latest recorded state; failed from the instant an ending that fails the job is decided. Read without the lock
    /// (the metrics' gauges), so it may lag a state being recorded by an instant.
    /// </summary>
    public JobState State => _ending is { Fails: true } && !_journal.Final ? JobState.Failed : _journal.LastState;

    /// <summary>Completes once the final state is recorded and the job's threads are done.</summary>
    public Task Finished => _finished.Task;

    /// <summary>
    /// Prepares the job with <paramref name="prepare"/> (its sandbox, home and code: an unpack can take minutes, and
    /// nothing is locked meanwhile, so pulls and a stop are answered), then starts its process and its output and
    /// exit threads. Until then the job has no state event. A failure to prepare or start ends the job
    /// <c>failed</c> / <c>executor_error</c>; a stop meanwhile cancels the preparation and ends it <c>terminated</c>.
    /// </summary>
    public void Start(Func<CancellationToken, JobLaunch> prepare)
    {
        JobLaunch? launch = null;
        string? failure = null;
        try
        {
            launch = prepare(_preparing.Token);
        }
        catch (OperationCanceledException) when (_preparing.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // Never let a preparation end the runner: it may run on a thread of its own.
            failure = e is JobStartException ? e.Message : $"runner fault while preparing the job: {e.Message}";
            if (e is not JobStartException)
            {
                _logger.LogError(e, "Job {JobId}: preparing it failed", Id);
            }
        }

        lock (_lock)
        {
            if (_preparing.IsCancellationRequested)
            {
                // Stopped, or the runner disposed it, before its process existed: no process ever starts.
                launch?.Sandbox.Release();
                var ending = _ending ?? new JobStopped(TerminationReason.TerminatedByServer, "The runner stopped before the job started");
                _journal.RecordState(ending.FinalState(_journal.NextTimestamp(), exitStatus: 0));
                _finished.TrySetResult();
                return;
            }

            try
            {
                _process = failure is null ? ProcessSupervisor.Start(launch!) : null;
            }
            catch (JobStartException e)
            {
                failure = e.Message;
            }

            if (failure is not null)
            {
                _logger.LogWarning("Job {JobId} could not start: {Reason}", Id, failure);
                _journal.RecordState(new JobStateEvent(JobState.Failed, _journal.NextTimestamp(), TerminationReason.ExecutorError, failure));
                _finished.TrySetResult();
                return;
            }

            _journal.RecordState(new JobStateEvent(JobState.Running, _journal.NextTimestamp()));
        }

        _logger.LogInformation("Job {JobId} started as pid {Pid} ({Mode})", Id, _process!.Pid, Body.JobSpec.Tty ? "tty" : "pipe");
        var reader = new Thread(() => Guarded("output", () => _process!.PumpOutput(OnOutput, _time))) { IsBackground = true, Name = $"job-output-{Id:N}" };
        reader.Start();
        new Thread(() => Supervise(reader)) { IsBackground = true, Name = $"job-wait-{Id:N}" }.Start();

        if (Body.JobSpec.MaxDuration is { } seconds)
        {
            _maxDurationTimer = StartTimer("max-duration", () => Stop(TerminationReason.MaxDurationExceeded, "Max duration exceeded"), TimeSpan.FromSeconds(seconds));
        }

        if (_disk is not null)
        {
            // One-shot, re-armed after each measurement: a walk that outlasts the period never overlaps the next one.
            _diskTimer = StartTimer("disk", CheckDisk, JobDiskUsage.Period);
        }
    }

    /// <summary>Runs on the output thread for every chunk the job writes: the one way its output enters the job.</summary>
    private void OnOutput(ReadOnlySpan<byte> chunk, long readTimestamp)
    {
        _metrics?.Read(Body.JobSpec.Tty, chunk.Length);
        lock (_lock)
        {
            if (_output.Closed)
            {
                // Past a quota kill (in its grace, or in the instant before SIGKILL lands): read and dropped so the
                // job's writes never block before it dies.
                if (_ending is JobQuotaKilled)
                {
                    _output.DroppedAfterKill(chunk);
                }

                return;
            }

            Act(_output.Read(chunk), readTimestamp);

            // The live region may have changed with no record, state or event published.
            Changed?.Invoke(this);
        }

        // On a full disk the next read waits: the job blocks on its own writes, as behind a slow terminal.
        WaitForRoom();
    }

    /// <summary>About once a second, from the registry's timer: stale lines are stored and the quota's bucket ends on time.</summary>
    public void Tick()
    {
        lock (_lock)
        {
            if (!_output.Closed)
            {
                Act(_output.Tick(), _time.GetTimestamp());
            }
        }
    }

    /// <summary>Records a run event from outside the job's threads (the Slurm executor's pending reason while it is prepared).</summary>
    public void Note(string type, string message)
    {
        lock (_lock)
        {
            _journal.RecordEvent(type, message);
        }
    }

    /// <summary>
    /// Runs on the exit thread: reaps the main process, kills whatever it left behind (a job ends
    /// with its main process, as a container does), drains the output, then records the final
    /// state — after the last stored log event.
    /// </summary>
    private void Supervise(Thread reader)
    {
        try
        {
            SuperviseToEnd(reader);
        }
        catch (Exception e)
        {
            // Never expected; the job still gets a final state so that its server does not wait forever.
            _logger.LogError(e, "Job {JobId}: supervising it failed", Id);
            lock (_lock)
            {
                if (!_journal.Final)
                {
                    var fault = _ending as JobFaulted ?? new JobFaulted($"runner fault while supervising the job: {e.Message}");
                    _journal.RecordState(fault.FinalState(_journal.NextTimestamp(), exitStatus: 0));
                }
            }

            _finished.TrySetResult();
        }
    }

    private void SuperviseToEnd(Thread reader)
    {
        var exitStatus = _process!.WaitForExit();
        _process.OnMainExited();
        _process.KillTree();
        reader.Join();

        lock (_lock)
        {
            if (!_output.Closed)
            {
                // The job has ended: its live region is final and is stored now, before the final state.
                Act(_output.Finish(), _time.GetTimestamp());
            }

            // What truncate dropped in the last bucket is reported now: the job's end is that bucket's end.
            _output.FinishQuota();
        }

        // Its last lines, on a full disk, wait for room like the rest: the final state comes after the last stored line.
        WaitForRoom();
        JobState final;
        lock (_lock)
        {
            var state = FinalState(exitStatus);
            _journal.RecordState(state);
            final = state.State;
        }

        if (_journal.LostBytes > 0)
        {
            _logger.LogWarning("Job {JobId} ended with the disk still full: {Lost} bytes of its output were not stored", Id, _journal.LostBytes);
        }

        _maxDurationTimer?.Dispose();
        _killTimer?.Dispose();
        _diskTimer?.Dispose();
        _process.Dispose();
        _logger.LogInformation("Job {JobId} ended {State} (exit status {ExitStatus})", Id, final, exitStatus);
        _finished.TrySetResult();
    }

    private JobStateEvent FinalState(int exitStatus)
    {
        var timestamp = _journal.NextTimestamp();
        if (_ending is not null)
        {
            return _ending.FinalState(timestamp, exitStatus);
        }

        if (_process!.ExternalEnding is { } ending)
        {
            return new JobStateEvent(ending.State, timestamp, ending.Reason, ending.Message);
        }

        // A job whose process the kernel killed for memory and that did not recover from it (a training loop's worker
        // killed, the job then exiting non-zero) ended for memory, not for its own error. One that survived it and
        // exited 0 is done.
        if (exitStatus != 0 && _process!.OomKills is > 0 and var kills)
        {
            return new JobStateEvent(JobState.Failed, timestamp, TerminationReason.OutOfMemory,
                $"The kernel killed {kills} process(es) of the job for passing its memory limit of {_process.MemoryLimit} bytes; it then exited with status {exitStatus}",
                exitStatus);
        }

        return exitStatus == 0
            ? new JobStateEvent(JobState.Done, timestamp, ExitStatus: 0)
            : new JobStateEvent(JobState.Failed, timestamp, TerminationReason.ContainerExitedWithError,
                $"Job exited with status {exitStatus}", exitStatus);
    }

    /// <summary>States and logs after <paramref name="after"/>, at most about <paramref name="maxLogBytes"/> of log text.</summary>
    public PullResponse Pull(long after, int maxLogBytes)
    {
        JournalView view;
        LogQuotaStatus quota;
        bool final;
        long bytesThisHour;
        byte[]? live;
        lock (_lock)
        {
            view = _journal.View(after);
            quota = _output.QuotaStatus();
            final = _finished.Task.IsCompleted;
            bytesThisHour = _output.BytesThisHour;
            live = _output.Live();
        }

        var page = _journal.Read(view, maxLogBytes);
        return new PullResponse(page.States, page.Logs, page.LastUpdated, page.Truncated || !final, bytesThisHour, live, quota, page.Events,
            page.Sections.Count == 0 ? null : page.Sections);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _preparing.Cancel();
        }

        _maxDurationTimer?.Dispose();
        _killTimer?.Dispose();
        _diskTimer?.Dispose();
        _journal.Dispose();
    }
}
