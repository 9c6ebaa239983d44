namespace LogQuota.Server.Processing;

/// <summary>
/// Per-key exponential backoff with a cap, on the monotonic clock: after the n-th failure in a row the key is due again
/// after <c>first × 2^(n-1)</c>, at most <c>max</c>; a success makes it due at once. Kept in memory: a restarted server
/// tries everything once at once, which is what a fresh process should do.
/// </summary>
internal sealed class Backoff(TimeSpan first, TimeSpan max, TimeProvider time)
{
    private readonly Dictionary<Guid, (long DueAt, TimeSpan Delay)> _waits = [];

    public bool IsDue(Guid key)
    {
        lock (_waits)
        {
            return !_waits.TryGetValue(key, out var wait) || time.GetTimestamp() >= wait.DueAt;
        }
    }

    /// <summary>Records a failure; returns how long the key now waits.</summary>
    public TimeSpan Failed(Guid key)
    {
        lock (_waits)
        {
            var delay = _waits.TryGetValue(key, out var wait) ? TimeSpan.FromTicks(Math.Min(wait.Delay.Ticks * 2, max.Ticks)) : first;
            _waits[key] = (time.GetTimestamp() + (long)(delay.TotalSeconds * time.TimestampFrequency), delay);
            return delay;
        }
    }

    public void Succeeded(Guid key)
    {
        lock (_waits)
        {
            _waits.Remove(key);
        }
    }

    public void Retain(IEnumerable<Guid> keys)
    {
        lock (_waits)
        {
            foreach (var stale in _waits.Keys.Except(keys).ToList())
            {
                _waits.Remove(stale);
            }
        }
    }
}
