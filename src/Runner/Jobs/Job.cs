using System.Buffers;
using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;
using LogQuota.Runner.Logs;
using LogQuota.Runner.Metrics;
using LogQuota.Runner.Quota;
using LogQuota.Runner.Storage;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// One job on this runner: its process, the path from raw output to stored log events (terminal
/// processing, then the hourly quota, then the spool), and its state events. All state changes
/// and every stored event happen under <see cref="_lock"/>, so timestamps are strictly increasing
/// across logs and states and a pull sees a consistent snapshot.
/// </summary>
internal sealed partial class Job : IQuotaOutput, IDisposable
{
    /// <summary>SIGTERM → SIGKILL grace period for stop and max duration (SPEC §3).</summary>
    public static readonly TimeSpan StopGracePeriod = TimeSpan.FromSeconds(10);

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TerminalProcessor _terminal;
    private readonly QuotaPolicy _quota;
    private readonly LogSpool _spool;
    private readonly HeldRecords _held;
    private readonly JobDiskUsage? _disk;
    private readonly RunnerMetrics? _metrics;
    private readonly List<JobStateEvent> _states = [];
    private readonly List<JobEvent> _events = [];
    private readonly ArrayBufferWriter<byte> _lines = new(64 * 1024);
    private readonly ForgedMarkers _forgedMarkers = new();
    private readonly ArrayBufferWriter<byte> _live = new(4 * 1024);
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ProcessSupervisor? _process;
    private ITimer? _maxDurationTimer;
    private ITimer? _killTimer;
    private ITimer? _diskTimer;
    private long _lastTimestamp;
    private bool _outputClosed;
    private bool _quotaExceeded;

    /// <summary>Bytes the job's files took when they passed <c>DSTACK_RUNNER_JOB_DISK_MAX</c>; set once, when it is killed for it.</summary>
    private long? _diskExceeded;

    /// <summary>When the current stall on a full disk began (the clock's timestamp).</summary>
    private long _stalledSince;

    /// <summary>Why the runner itself had to end the job (a spool write failed other than for room, a job thread threw); final.</summary>
    private string? _fault;
    private (TerminationReason Reason, string Message)? _termination;

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
        // 0700, spool 0600 (SPEC §7): the runner's alone, whatever the umask; jobs under other uids cannot even list it.
        Isolation.FileModes.CreateDirectory(directory, Isolation.FileModes.Private);
        _spool = new LogSpool(Path.Combine(directory, "log.spool"));
        _held = new HeldRecords(_spool, NextTimestamp, bytes => _metrics?.Stored(body.JobSpec.Tty, bytes));
        _disk = disk;
        var spec = body.JobSpec;
        _quota = new QuotaPolicy(spec.LogQuotaHour, spec.LogQuotaAction, spec.LogQuotaWarnAt, TimeSpan.FromSeconds(spec.LogQuotaKillGrace), time);
        _terminal = new TerminalProcessor(time, newLineReturns: !body.JobSpec.Tty);
    }

    public SubmitBody Body { get; }

    /// <summary>Told of every change a pull would answer (a stored event or state, a new live region): the runner's stream.</summary>
    public Action<Job>? Changed { get; init; }

    /// <summary>The job's own directory: spool and default working directory.</summary>
    public string Directory { get; }

    public Guid Id => Body.JobId;

    /// <summary>Bytes of the job's spool file on disk.</summary>
    public long SpoolBytes => _spool.Length;

    /// <summary>The latest state.</summary>
    public JobState State { get; private set; } = JobState.Running;

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
                var (reason, message) = _termination ?? (TerminationReason.TerminatedByServer, "The runner stopped before the job started");
                RecordState(new JobStateEvent(JobState.Terminated, NextTimestamp(), reason, message));
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
                RecordState(new JobStateEvent(JobState.Failed, NextTimestamp(), TerminationReason.ExecutorError, failure));
                _finished.TrySetResult();
                return;
            }

            RecordState(new JobStateEvent(JobState.Running, NextTimestamp()));
        }

        _logger.LogInformation("Job {JobId} started as pid {Pid} ({Mode})", Id, _process!.Pid, Body.JobSpec.Tty ? "tty" : "pipe");
        var reader = new Thread(() => Guarded("output", () => _process!.PumpOutput(OnOutput, _time))) { IsBackground = true, Name = $"job-output-{Id:N}" };
        reader.Start();
        new Thread(() => Supervise(reader)) { IsBackground = true, Name = $"job-wait-{Id:N}" }.Start();

        if (Body.JobSpec.MaxDuration is { } seconds)
        {
            _maxDurationTimer = _time.CreateTimer(
                _ => Guarded("max-duration", () => Stop(TerminationReason.MaxDurationExceeded, "Max duration exceeded")),
                null, TimeSpan.FromSeconds(seconds), Timeout.InfiniteTimeSpan);
        }

        if (_disk is not null)
        {
            // One-shot, re-armed after each measurement: a walk that outlasts the period never overlaps the next one.
            _diskTimer = _time.CreateTimer(_ => Guarded("disk", CheckDisk), null, JobDiskUsage.Period, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Runs on the output thread for every chunk the job writes.</summary>
    private void OnOutput(ReadOnlySpan<byte> chunk, long readTimestamp)
    {
        _metrics?.Read(Body.JobSpec.Tty, chunk.Length);
        lock (_lock)
        {
            if (_outputClosed)
            {
                // Past a quota kill (in its grace, or in the instant before SIGKILL lands): read and dropped so the
                // job's writes never block before it dies.
                if (_quotaExceeded)
                {
                    _quota.DroppedAfterKill(chunk);
                }

                return;
            }

            _lines.ResetWrittenCount();
            _terminal.Process(chunk, _lines);
            if (_lines.WrittenCount > 0)
            {
                Store(_lines.WrittenSpan, readTimestamp);
            }

            // The live region may have changed with no event stored.
            Changed?.Invoke(this);
        }

        // On a full disk the next read waits: the job blocks on its own writes, as behind a slow terminal.
        WaitForRoom();
    }

    /// <summary>Stores the held lines that have not changed for 30 s (SPEC §2). Called by the registry's timer.</summary>
    public void StoreStaleLines()
    {
        lock (_lock)
        {
            if (_outputClosed)
            {
                return;
            }

            _lines.ResetWrittenCount();
            _terminal.StoreStale(_lines);
            if (_lines.WrittenCount > 0)
            {
                Store(_lines.WrittenSpan, _time.GetTimestamp());
            }

            // A silent job's bucket still ends on time: a truncate's drop report is stored within a tick of it.
            _quota.Tick(this);
        }
    }

    /// <summary>
    /// Offers <paramref name="text"/> to the quota policy, which stores what its action lets through, with its
    /// warnings and markers (through <see cref="IQuotaOutput"/>). On a crossing under <c>kill</c>, the kill happens
    /// right here, synchronously in the read path: no timer sits between the byte that crossed and the signal to the
    /// job's whole tree. <paramref name="readTimestamp"/> is when the text's bytes were read, so the logged kill time
    /// covers processing, storing and killing.
    /// </summary>
    private void Store(ReadOnlySpan<byte> text, long readTimestamp)
    {
        if (_quota.Offer(_forgedMarkers.Defuse(text), this) == QuotaVerdict.Kill)
        {
            QuotaKill(readTimestamp);
        }
    }

    /// <summary>
    /// The quota was crossed under <c>kill</c>. Without a grace the whole tree gets SIGKILL now; with one it gets
    /// SIGTERM now (a training job may save a checkpoint) and SIGKILL when the grace ends, its output read and
    /// dropped meanwhile. Either way the job ends <c>failed</c> / <c>log_quota_exceeded</c>.
    /// </summary>
    private void QuotaKill(long readTimestamp)
    {
        _outputClosed = true;
        _quotaExceeded = true;
        State = JobState.Failed; // final from this instant for pulls; the event is recorded once the process is reaped
        if (_quota.KillGrace > TimeSpan.Zero)
        {
            _process!.SignalTree(Native.SIGTERM);
            _killTimer = _time.CreateTimer(_ => Guarded("quota-kill", KillAfterGrace), null, _quota.KillGrace, Timeout.InfiniteTimeSpan);
            _metrics?.QuotaKill(latency: null);
            _logger.LogWarning(
                "Job {JobId} exceeded its log quota of {Quota} bytes; its process tree got SIGTERM, SIGKILL follows in {Grace}",
                Id, _quota.Limit, _quota.KillGrace);
            return;
        }

        var rounds = _process!.KillTree();
        var latency = _time.GetElapsedTime(readTimestamp);
        _metrics?.QuotaKill(latency);
        _logger.LogWarning(
            "Job {JobId} exceeded its log quota of {Quota} bytes; its whole process tree was gone {KillMilliseconds:F3} ms after the read that crossed it ({Rounds} kill rounds)",
            Id, _quota.Limit, latency.TotalMilliseconds, rounds);
    }

    void IQuotaOutput.Event(string type, string message) => RecordEvent(type, message);

    private void RecordEvent(string type, string message)
    {
        _events.Add(new JobEvent(NextTimestamp(), type, message));
        _logger.LogInformation("Job {JobId}: {EventType}: {EventMessage}", Id, type, message);
    }

    /// <summary>
    /// Ends the job because the runner cannot carry it on (caller holds <see cref="_lock"/>): output is
    /// dropped from here, the whole tree is killed, and the final state says why. Other jobs are untouched.
    /// </summary>
    private void EndByFault(string message)
    {
        if (_fault is not null || _quotaExceeded)
        {
            return;
        }

        _fault = message;
        _outputClosed = true;
        State = JobState.Failed;
        _logger.LogError("Job {JobId} is ended by the runner: {Fault}", Id, message);
        _process?.KillTree();
    }

    /// <summary>Runs a job thread's or timer's body so that no exception escapes it (<see cref="JobFaults"/>).</summary>
    private void Guarded(string what, Action body) => JobFaults.Guarded(_logger, Id, what, body, message =>
    {
        lock (_lock)
        {
            EndByFault(message);
        }
    });

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
                _fault ??= $"runner fault while supervising the job: {e.Message}";
                if (!_states.Exists(s => s.State.IsFinal()))
                {
                    RecordState(new JobStateEvent(JobState.Failed, NextTimestamp(), TerminationReason.ExecutorError, _fault));
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
            if (!_outputClosed)
            {
                // The job has ended: its live region is final and is stored now, before the final state.
                _lines.ResetWrittenCount();
                _terminal.Finish(_lines);
                if (_lines.WrittenCount > 0)
                {
                    Store(_lines.WrittenSpan, _time.GetTimestamp());
                }

                _outputClosed = true;
            }

            // What truncate dropped in the last bucket is reported now: the job's end is that bucket's end.
            _quota.Finish(this);
        }

        // Its last lines, on a full disk, wait for room like the rest: the final state comes after the last stored line.
        WaitForRoom();
        lock (_lock)
        {
            RecordState(FinalState(exitStatus));
        }

        if (_held.LostBytes > 0)
        {
            _logger.LogWarning("Job {JobId} ended with the disk still full: {Lost} bytes of its output were not stored", Id, _held.LostBytes);
        }

        _maxDurationTimer?.Dispose();
        _killTimer?.Dispose();
        _diskTimer?.Dispose();
        _process.Dispose();
        _logger.LogInformation("Job {JobId} ended {State} (exit status {ExitStatus})", Id, State, exitStatus);
        _finished.TrySetResult();
    }

    private JobStateEvent FinalState(int exitStatus)
    {
        var timestamp = NextTimestamp();
        if (_fault is not null)
        {
            return new JobStateEvent(JobState.Failed, timestamp, TerminationReason.ExecutorError, _fault);
        }

        if (_quotaExceeded)
        {
            return new JobStateEvent(JobState.Failed, timestamp, TerminationReason.LogQuotaExceeded,
                $"Job log output exceeded the hourly quota of {_quota.Limit} bytes");
        }

        if (_diskExceeded is { } used)
        {
            return new JobStateEvent(JobState.Failed, timestamp, TerminationReason.DiskQuotaExceeded,
                $"The job's files took {used} bytes, over its disk limit of {_disk!.Limit} bytes");
        }

        if (_termination is { } termination)
        {
            return new JobStateEvent(JobState.Terminated, timestamp, termination.Reason, termination.Message);
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

    /// <summary>
    /// SIGTERM to the whole tree, SIGKILL after <see cref="StopGracePeriod"/>. Idempotent; a job
    /// that already ended or is already stopping is left alone.
    /// </summary>
    public void Stop(TerminationReason reason, string message)
    {
        lock (_lock)
        {
            if (State.IsFinal() || _termination is not null)
            {
                return;
            }

            _termination = (reason, message);
            RecordState(new JobStateEvent(JobState.Terminating, NextTimestamp(), reason, message));
            if (_process is null)
            {
                // Still preparing (unpacking its code): the preparation stops at its next check, and Start ends the job.
                _preparing.Cancel();
                return;
            }

            _process.SignalTree(Native.SIGTERM);
            _killTimer = _time.CreateTimer(_ => Guarded("stop", KillAfterGrace), null, StopGracePeriod, Timeout.InfiniteTimeSpan);
        }

        _logger.LogInformation("Job {JobId} is stopping: {Reason}", Id, reason);
    }

    private void KillAfterGrace()
    {
        if (!_finished.Task.IsCompleted)
        {
            _process?.KillTree();
        }
    }

    /// <summary>States and logs after <paramref name="after"/>, at most about <paramref name="maxLogBytes"/> of log text.</summary>
    public PullResponse Pull(long after, int maxLogBytes)
    {
        long committed;
        List<JobStateEvent> states;
        List<JobEvent> events;
        LogQuotaStatus quota;
        bool final;
        long bytesThisHour;
        byte[]? live = null;
        lock (_lock)
        {
            committed = _spool.Length;
            states = _states.FindAll(s => s.Timestamp > after);
            events = _events.FindAll(e => e.Timestamp > after);
            quota = _quota.Status();
            final = _finished.Task.IsCompleted;
            bytesThisHour = _quota.BytesThisHour;
            if (!_outputClosed)
            {
                _live.ResetWrittenCount();
                if (_terminal.WriteLive(_live))
                {
                    live = _live.WrittenSpan.ToArray();
                }
            }
        }

        // Read outside the lock: the spool never changes below the committed length.
        var logs = new List<LogEvent>();
        var truncated = _spool.Read(after, committed, maxLogBytes, logs);
        if (truncated)
        {
            // A state newer than the last log in this answer would let the caller skip the logs
            // between them; it comes with a later page.
            var lastLog = logs[^1].Timestamp;
            states.RemoveAll(s => s.Timestamp > lastLog);
            events.RemoveAll(e => e.Timestamp > lastLog);
        }

        var lastUpdated = after;
        if (logs.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, logs[^1].Timestamp);
        }

        if (states.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, states[^1].Timestamp);
        }

        if (events.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, events[^1].Timestamp);
        }

        return new PullResponse(states, logs, lastUpdated, truncated || !final, bytesThisHour, live, quota, events);
    }

    private void RecordState(JobStateEvent state)
    {
        _states.Add(state);
        State = state.State;
    }

    /// <summary>Wall-clock milliseconds, bumped to stay strictly increasing within the job.</summary>
    private long NextTimestamp()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lastTimestamp = Math.Max(now, _lastTimestamp + 1);

        // Every event and state takes its timestamp here, under the job's lock, just before it is recorded.
        Changed?.Invoke(this);
        return _lastTimestamp;
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
        _spool.Dispose();
    }
}
