using LogQuota.Runner.Isolation;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// A job and the disk (SPEC §7, "the culprit pays"): its records go to its spool, a full disk pauses the reading of its
/// output until the records held are stored (never failing the job), and the job whose own files pass
/// <c>DSTACK_RUNNER_JOB_DISK_MAX</c> is the one killed.
/// </summary>
internal sealed partial class Job
{
    void IQuotaOutput.Store(ReadOnlySpan<byte> text) => Append(text, LogSource.Stdout);

    void IQuotaOutput.StoreRunner(ReadOnlySpan<byte> text) => Append(text, LogSource.Runner);

    private void Append(ReadOnlySpan<byte> text, LogSource source)
    {
        if (_fault is not null)
        {
            return;
        }

        try
        {
            if (_held.Append(text, source))
            {
                _stalledSince = _time.GetTimestamp();
                RecordEvent(JobEventTypes.LogStalled,
                    "The runner's disk is full: reading this job's output is paused until space returns; nothing is dropped");
            }
        }
        catch (IOException e)
        {
            // EIO, EFBIG: the spool keeps every record committed before (a torn record is past the committed length,
            // so no reader ever sees it); the job cannot go on unrecorded. A full disk is no fault: it is held above.
            EndByFault($"log spool write failed: {JobFaults.Describe(e)}");
        }
    }

    /// <summary>
    /// Blocks the calling job thread while the job's records wait for room on a full disk (SPEC §7: backpressure, never a
    /// failure). The wait ends when they are stored, or when the job is being ended by force (a stop, a kill, a fault):
    /// then what is held is dropped and counted, so that no end ever waits for space.
    /// </summary>
    private void WaitForRoom()
    {
        while (!TryLeaveStall())
        {
            // A failed write(2) ten times a second costs nothing; space returning is noticed within 100 ms.
            Thread.Sleep(100);
        }
    }

    private bool TryLeaveStall()
    {
        lock (_lock)
        {
            if (!_held.Stalled)
            {
                return true;
            }

            var held = _held.HeldBytes;
            try
            {
                if (_held.TryStore())
                {
                    RecordEvent(JobEventTypes.LogResumed, $"Space returned after {QuotaText.Duration(_time.GetElapsedTime(_stalledSince))}: the {QuotaText.Bytes(held)} of output held are stored, and reading goes on");
                    return true;
                }
            }
            catch (IOException e)
            {
                EndByFault($"log spool write failed: {JobFaults.Describe(e)}");
            }

            if (_termination is null && !_quotaExceeded && _fault is null && _diskExceeded is null)
            {
                return false;
            }

            var dropped = _held.GiveUp();
            RecordEvent(JobEventTypes.LogResumed, $"The job is being ended while the disk is still full: the {QuotaText.Bytes(dropped)} of output held are dropped, and so is what finds no room from now on");
            return true;
        }
    }

    /// <summary>
    /// Measures the job's files against <c>DSTACK_RUNNER_JOB_DISK_MAX</c> (on its timer; the walk runs outside the lock).
    /// Over it, the job is killed whole and ends <c>failed</c> / <c>disk_quota_exceeded</c>; its output is still read
    /// and stored until its processes are gone, and a marker and an event say how much it took.
    /// </summary>
    private void CheckDisk()
    {
        var used = _disk!.Measure();
        lock (_lock)
        {
            if (State.IsFinal() || _termination is not null || _fault is not null)
            {
                return;
            }

            if (used <= _disk.Limit)
            {
                _diskTimer?.Change(JobDiskUsage.Period, Timeout.InfiniteTimeSpan);
                return;
            }

            _diskExceeded = used;
            State = JobState.Failed; // final from this instant for pulls; the event is recorded once the process is reaped
            var message = $"disk limit of {QuotaText.Bytes(_disk.Limit)} reached: the job's files take {QuotaText.Bytes(used)}; the job is being killed";
            _quota.Marker(this, message);
            RecordEvent(JobEventTypes.DiskQuotaExceeded, $"The job's files in {_disk.Root} take {used} bytes, over its disk limit of {_disk.Limit} bytes; the job is being killed");
            _process!.KillTree();
        }

        _logger.LogWarning("Job {JobId} passed its disk limit of {Limit} bytes with {Used} bytes of files; it was killed", Id, _disk.Limit, used);
    }
}
