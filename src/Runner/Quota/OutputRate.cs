namespace LogQuota.Runner.Quota;

/// <summary>
/// A bucket's output over time, in fixed memory: bytes per minute of the bucket (60 counters, the report's
/// <c>bytes_per_minute</c>) and bytes per second over the trailing minute (60 counters, for the time to
/// exhaustion of a warning). Times are offsets into the bucket, from <see cref="HourlyLogQuota.ElapsedInBucket"/>.
/// </summary>
internal sealed class OutputRate
{
    private readonly long[] _perMinute = new long[60];
    private readonly long[] _perSecond = new long[60];
    private readonly long[] _secondOf = new long[60];
    private int _lastMinute = -1;

    /// <summary>Records <paramref name="bytes"/> written at <paramref name="inBucket"/>.</summary>
    public void Add(long bytes, TimeSpan inBucket)
    {
        var second = (long)inBucket.TotalSeconds;
        var minute = (int)Math.Min(59, second / 60);
        _perMinute[minute] += bytes;
        _lastMinute = Math.Max(_lastMinute, minute);
        var slot = (int)(second % 60);
        if (_secondOf[slot] != second + 1)
        {
            // The slot last held a second a minute or more ago: it starts over.
            _secondOf[slot] = second + 1;
            _perSecond[slot] = 0;
        }

        _perSecond[slot] += bytes;
    }

    /// <summary>
    /// Bytes per second over the minute before <paramref name="inBucket"/>; in a bucket's first minute, over the
    /// time since it began (at least a second), so a job that floods its first seconds is not under-estimated.
    /// </summary>
    public double LastMinuteBytesPerSecond(TimeSpan inBucket)
    {
        var now = (long)inBucket.TotalSeconds;
        long sum = 0;
        for (var slot = 0; slot < 60; slot++)
        {
            var second = _secondOf[slot] - 1;
            if (second >= 0 && second > now - 60 && second <= now)
            {
                sum += _perSecond[slot];
            }
        }

        var window = Math.Clamp(inBucket.TotalSeconds, 1, 60);
        return sum / window;
    }

    /// <summary>Bytes per minute from minute 0 up to the last minute with output.</summary>
    public long[] PerMinute() => _perMinute[..(_lastMinute + 1)];

    /// <summary>Forgets everything (a new bucket).</summary>
    public void Clear()
    {
        Array.Clear(_perMinute);
        Array.Clear(_perSecond);
        Array.Clear(_secondOf);
        _lastMinute = -1;
    }
}
