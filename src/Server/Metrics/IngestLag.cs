namespace LogQuota.Server.Metrics;

/// <summary>
/// <c>logquota_ingest_lag_seconds</c>: for each active job this process pulls, the point in time up to which its
/// runner's events are stored — now, when a pull found nothing newer (or the job's last events), else the timestamp
/// of the newest stored event — and the lag is now minus the oldest of those points. A job that logs nothing has no
/// lag; a runner that does not answer, or a database that does not commit, makes it grow by the second.
/// </summary>
internal sealed class IngestLag(TimeProvider time)
{
    private readonly Dictionary<Guid, DateTimeOffset> _storedUpTo = [];

    /// <summary>The runner of each job whose events come through its runner's stream.</summary>
    private readonly Dictionary<Guid, string> _streamed = [];

    /// <summary>A page of <paramref name="jobId"/> was pulled and stored (or had nothing to store).</summary>
    /// <param name="jobId">The job.</param>
    /// <param name="caughtUp">The runner had nothing newer: the page was empty, or the job's last.</param>
    /// <param name="newestEvent">The runner's timestamp (Unix ms) of the newest event stored.</param>
    public void Pulled(Guid jobId, bool caughtUp, long newestEvent)
    {
        var point = caughtUp ? time.GetUtcNow() : DateTimeOffset.FromUnixTimeMilliseconds(newestEvent);
        lock (_storedUpTo)
        {
            _storedUpTo[jobId] = _storedUpTo.TryGetValue(jobId, out var before) && before > point ? before : point;
        }
    }

    /// <summary>A page of <paramref name="jobId"/> came through <paramref name="runner"/>'s stream and was stored.</summary>
    public void Streamed(Guid jobId, string runner, long newestEvent)
    {
        Pulled(jobId, caughtUp: false, newestEvent);
        lock (_storedUpTo)
        {
            _streamed[jobId] = runner;
        }
    }

    /// <summary>An answer of <paramref name="runner"/>'s stream with nothing more behind it was stored: every job on that
    /// runner is stored up to now, the quiet ones included.</summary>
    public void StreamCaughtUp(string runner)
    {
        var now = time.GetUtcNow();
        lock (_storedUpTo)
        {
            foreach (var (jobId, of) in _streamed)
            {
                if (of == runner)
                {
                    _storedUpTo[jobId] = now;
                }
            }
        }
    }

    /// <summary>Forgets <paramref name="released"/>: jobs ended and released, whose runner holds nothing more of them.</summary>
    public void Forget(IEnumerable<Guid> released)
    {
        ArgumentNullException.ThrowIfNull(released);
        lock (_storedUpTo)
        {
            foreach (var gone in released)
            {
                _storedUpTo.Remove(gone);
                _streamed.Remove(gone);
            }
        }
    }

    public double Seconds()
    {
        lock (_storedUpTo)
        {
            if (_storedUpTo.Count == 0)
            {
                return 0;
            }

            var lag = time.GetUtcNow() - _storedUpTo.Values.Min();
            return Math.Max(0, lag.TotalSeconds);
        }
    }
}
