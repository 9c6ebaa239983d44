namespace LogQuota.Server.Processing;

/// <summary>
/// Monotonic timestamp of each job's last successful runner call (or of when this process first saw the job), which
/// the unreachable timeout is measured from. Kept in memory on purpose: after a server restart every runner gets a full
/// timeout again, since the silence was the server's, not the runner's. Jobs are processed in parallel, hence the lock.
/// </summary>
internal sealed class RunnerContact(TimeProvider time)
{
    private readonly Dictionary<Guid, long> _lastContact = [];

    /// <summary>Since when the job's runner has been silent: its last contact, or now for a job first seen.</summary>
    public long Start(Guid jobId)
    {
        lock (_lastContact)
        {
            if (!_lastContact.TryGetValue(jobId, out var since))
            {
                since = time.GetTimestamp();
                _lastContact[jobId] = since;
            }

            return since;
        }
    }

    public void Mark(Guid jobId)
    {
        lock (_lastContact)
        {
            _lastContact[jobId] = time.GetTimestamp();
        }
    }

    /// <summary>Forgets the jobs no longer processed.</summary>
    public void Retain(IEnumerable<Guid> jobIds)
    {
        lock (_lastContact)
        {
            foreach (var stale in _lastContact.Keys.Except(jobIds).ToList())
            {
                _lastContact.Remove(stale);
            }
        }
    }
}
