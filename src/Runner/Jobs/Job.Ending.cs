using LogQuota.Runner.Execution;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// How a job is ended before it ends by itself: a stop, a quota kill, a fault of the runner (and the disk limit,
/// <c>Job.Disk.cs</c>). Each decides the job's one <see cref="JobEnding"/> and signals or kills its whole tree; the final
/// state follows once the process is reaped. Its timers are made and guarded here.
/// </summary>
internal sealed partial class Job
{
    /// <summary>
    /// SIGTERM to the whole tree, SIGKILL after <see cref="StopGracePeriod"/>. Idempotent; a job
    /// that already ended or is already being ended is left alone.
    /// </summary>
    public void Stop(TerminationReason reason, string message)
    {
        lock (_lock)
        {
            if (_journal.Final || !End(new JobStopped(reason, message)))
            {
                return;
            }

            _journal.RecordState(new JobStateEvent(JobState.Terminating, _journal.NextTimestamp(), reason, message));
            if (_process is null)
            {
                // Still preparing (unpacking its code): the preparation stops at its next check, and Start ends the job.
                _preparing.Cancel();
                return;
            }

            _process.SignalTree(Native.SIGTERM);
            _killTimer = StartTimer("stop", KillAfterGrace, StopGracePeriod);
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

    /// <summary>
    /// Carries out the quota's verdict. On a crossing under <c>kill</c>, the kill happens right here, synchronously in
    /// the read path: no timer sits between the byte that crossed and the signal to the job's whole tree.
    /// <paramref name="readTimestamp"/> is when the text's bytes were read, so the logged kill time covers processing,
    /// storing and killing.
    /// </summary>
    private void Act(QuotaVerdict verdict, long readTimestamp)
    {
        if (verdict == QuotaVerdict.Kill)
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
        End(new JobQuotaKilled(_output.QuotaLimit));
        if (_output.KillGrace > TimeSpan.Zero)
        {
            _process!.SignalTree(Native.SIGTERM);
            _killTimer = StartTimer("quota-kill", KillAfterGrace, _output.KillGrace);
            _metrics?.QuotaKill(latency: null);
            _logger.LogWarning(
                "Job {JobId} exceeded its log quota of {Quota} bytes; its process tree got SIGTERM, SIGKILL follows in {Grace}",
                Id, _output.QuotaLimit, _output.KillGrace);
            return;
        }

        var rounds = _process!.KillTree();
        var latency = _time.GetElapsedTime(readTimestamp);
        _metrics?.QuotaKill(latency);
        _logger.LogWarning(
            "Job {JobId} exceeded its log quota of {Quota} bytes; its whole process tree was gone {KillMilliseconds:F3} ms after the read that crossed it ({Rounds} kill rounds)",
            Id, _output.QuotaLimit, latency.TotalMilliseconds, rounds);
    }

    /// <summary>
    /// Records <paramref name="ending"/> when it may take the place of the current one (<see cref="JobEnding.Replaces"/>;
    /// the caller holds <see cref="_lock"/>). One that drops the job's output closes the output path. False when it may not.
    /// </summary>
    private bool End(JobEnding ending)
    {
        if (!JobEnding.Replaces(ending, _ending))
        {
            return false;
        }

        _ending = ending;
        if (ending.DropsOutput)
        {
            _output.Close();
        }

        return true;
    }

    /// <summary>
    /// Ends the job because the runner cannot carry it on (caller holds <see cref="_lock"/>): output is
    /// dropped from here, the whole tree is killed, and the final state says why. Other jobs are untouched.
    /// </summary>
    private void EndByFault(string message)
    {
        if (!End(new JobFaulted(message)))
        {
            return;
        }

        _journal.RefuseRecords();
        _logger.LogError("Job {JobId} is ended by the runner: {Fault}", Id, message);
        _process?.KillTree();
    }

    /// <summary>A one-shot timer of this job whose body runs guarded (<see cref="JobFaults.StartTimer"/>).</summary>
    private ITimer StartTimer(string what, Action body, TimeSpan dueTime) =>
        JobFaults.StartTimer(_time, dueTime, _logger, Id, what, body, EndByFaultLocked);

    /// <summary>Runs a job thread's body so that no exception escapes it (<see cref="JobFaults"/>).</summary>
    private void Guarded(string what, Action body) => JobFaults.Guarded(_logger, Id, what, body, EndByFaultLocked);

    private void EndByFaultLocked(string message)
    {
        lock (_lock)
        {
            EndByFault(message);
        }
    }
}
