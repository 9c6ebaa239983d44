using LogQuota.Runner.Isolation;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// A job and the disk (SPEC §7, "the culprit pays"): a full disk pauses the reading of its output until the records held
/// are stored (never failing the job), and the job whose own files pass <c>DSTACK_RUNNER_JOB_DISK_MAX</c> is the one killed.
/// </summary>
internal sealed partial class Job
{
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
            var left = _journal.TryLeaveStall(ending: _ending is not null, out var fault);
            if (fault is not null)
            {
                EndByFault(fault);
            }

            return left;
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
            if (_journal.Final || _ending is not null)
            {
                return;
            }

            if (used <= _disk.Limit)
            {
                _diskTimer?.Change(JobDiskUsage.Period, Timeout.InfiniteTimeSpan);
                return;
            }

            End(new JobDiskKilled(used, _disk.Limit));
            _output.Marker($"disk limit of {QuotaText.Bytes(_disk.Limit)} reached: the job's files take {QuotaText.Bytes(used)}; the job is being killed");
            _journal.RecordEvent(JobEventTypes.DiskQuotaExceeded, $"The job's files in {_disk.Root} take {used} bytes, over its disk limit of {_disk.Limit} bytes; the job is being killed");
            _process!.KillTree();
        }

        _logger.LogWarning("Job {JobId} passed its disk limit of {Limit} bytes with {Used} bytes of files; it was killed", Id, _disk.Limit, used);
    }
}
