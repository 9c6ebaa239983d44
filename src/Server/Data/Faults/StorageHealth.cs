namespace LogQuota.Server.Data.Faults;

/// <summary>
/// Whether the database can be written, as the last write found: a failed write with a <see cref="StorageFault"/> sets the
/// fault, the next write that succeeds clears it. Read by the health check and the API's 503s, set by the database
/// interceptors (every write passes through them) and by the job processor, which also publishes its retry delay so a
/// 503's <c>Retry-After</c> says when the server itself tries again.
/// </summary>
public sealed class StorageHealth(TimeProvider time)
{
    private readonly object _gate = new();
    private (StorageFault Fault, DateTimeOffset Since)? _current;
    private TimeSpan _retryAfter = TimeSpan.FromSeconds(1);

    /// <summary>The fault in force and since when, or null while writes succeed.</summary>
    public (StorageFault Fault, DateTimeOffset Since)? Current
    {
        get
        {
            lock (_gate)
            {
                return _current;
            }
        }
    }

    /// <summary>Seconds a client should wait before writing again (at least 1).</summary>
    public int RetryAfterSeconds
    {
        get
        {
            lock (_gate)
            {
                return Math.Max(1, (int)Math.Ceiling(_retryAfter.TotalSeconds));
            }
        }
    }

    /// <summary>Raised once when a fault begins (not per failed write), and once when writes succeed again.</summary>
    public event Action<StorageFault?>? Changed;

    public void Failed(StorageFault fault)
    {
        bool began;
        lock (_gate)
        {
            began = _current is null;
            _current = began ? (fault, time.GetUtcNow()) : (fault, _current!.Value.Since);
        }

        if (began)
        {
            Changed?.Invoke(fault);
        }
    }

    public void Succeeded()
    {
        bool ended;
        lock (_gate)
        {
            ended = _current is not null;
            _current = null;
            _retryAfter = TimeSpan.FromSeconds(1);
        }

        if (ended)
        {
            Changed?.Invoke(null);
        }
    }

    public void SetRetryAfter(TimeSpan delay)
    {
        lock (_gate)
        {
            _retryAfter = delay;
        }
    }
}
