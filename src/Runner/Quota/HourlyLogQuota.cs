namespace LogQuota.Runner.Quota;

/// <summary>
/// A job's hourly log quota window (SPEC §2 "window"): fixed one-hour buckets on a monotonic clock from the
/// moment the job starts; bucket <c>k</c> is [start + k h, start + (k + 1) h) and the count resets at each one.
/// </summary>
/// <remarks>
/// Only <see cref="TimeProvider.GetTimestamp"/> and <see cref="TimeProvider.GetElapsedTime(long)"/> are used:
/// a wall-clock change (NTP step, daylight saving, a VM resumed) moves no bucket boundary. Not thread-safe; the
/// job's single read loop owns it.
/// </remarks>
public sealed class HourlyLogQuota
{
    private readonly TimeProvider _timeProvider;
    private readonly long _start;
    private long _bucketIndex;

    /// <summary>The first bucket that ended since the owner last moved to the current one; null when none did.</summary>
    private long? _endedUnreported;
    private long _bytes;
    private bool _endsWithNewline;

    /// <summary>Starts the window now.</summary>
    /// <param name="limitBytes">Bytes allowed per bucket; null, 0 or negative means unlimited.</param>
    /// <param name="timeProvider">The clock; its timestamp at construction is the job's start.</param>
    public HourlyLogQuota(long? limitBytes, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        Limit = limitBytes > 0 ? limitBytes : null;
        _timeProvider = timeProvider;
        _start = timeProvider.GetTimestamp();
    }

    /// <summary>Bytes allowed per bucket; null when unlimited.</summary>
    public long? Limit { get; }

    /// <summary>The index of the current bucket (0 in the job's first hour).</summary>
    public long BucketIndex
    {
        get
        {
            Roll();
            return _bucketIndex;
        }
    }

    /// <summary>
    /// The bucket its owner reports on (its warnings, drops and evidence): the current one, or, once the clock has left it,
    /// the one that ended, until the owner calls <see cref="MoveToCurrentBucket"/>. Only this window tracks buckets.
    /// </summary>
    public long ReportingBucket
    {
        get
        {
            Roll();
            return _endedUnreported ?? _bucketIndex;
        }
    }

    /// <summary>True when the clock has left <see cref="ReportingBucket"/>: its owner reports on it, then moves on.</summary>
    public bool ReportingBucketEnded
    {
        get
        {
            Roll();
            return _endedUnreported is not null;
        }
    }

    /// <summary>The owner has reported on the bucket that ended: <see cref="ReportingBucket"/> is the current one again.</summary>
    public void MoveToCurrentBucket()
    {
        Roll();
        _endedUnreported = null;
    }

    /// <summary>How far into the current bucket the clock is (from 0 to just under an hour).</summary>
    public TimeSpan ElapsedInBucket
    {
        get
        {
            Roll();
            return TimeSpan.FromTicks(_timeProvider.GetElapsedTime(_start).Ticks % TimeSpan.TicksPerHour);
        }
    }

    /// <summary>Bytes consumed in the current bucket.</summary>
    public long BytesThisHour
    {
        get
        {
            Roll();
            return _bytes;
        }
    }

    /// <summary>
    /// True when the current bucket holds no bytes or its stored text does not end with <c>\n</c>: a cut there
    /// may fall mid-line (see <see cref="QuotaCut.Cut"/>).
    /// </summary>
    public bool MayCutMidLine
    {
        get
        {
            Roll();
            return _bytes == 0 || !_endsWithNewline;
        }
    }

    /// <summary>How many of the next <paramref name="count"/> bytes fit in the current bucket (all when unlimited).</summary>
    public int Fit(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Roll();
        if (Limit is not { } limit)
        {
            return count;
        }

        return (int)Math.Clamp(limit - _bytes, 0, count);
    }

    /// <summary>
    /// Records <paramref name="count"/> stored bytes in the current bucket. The text is unknown, so the bucket
    /// no longer counts as ending on a whole line; prefer <see cref="Consume(ReadOnlySpan{byte})"/>.
    /// </summary>
    public void Consume(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Roll();
        if (count > 0)
        {
            _bytes += count;
            _endsWithNewline = false;
        }
    }

    /// <summary>Records the stored bytes in the current bucket and whether its text now ends with <c>\n</c>.</summary>
    public void Consume(ReadOnlySpan<byte> stored)
    {
        Roll();
        if (!stored.IsEmpty)
        {
            _bytes += stored.Length;
            _endsWithNewline = stored[^1] == '\n';
        }
    }

    private void Roll()
    {
        long bucketIndex = _timeProvider.GetElapsedTime(_start).Ticks / TimeSpan.TicksPerHour;
        if (bucketIndex > _bucketIndex)
        {
            _endedUnreported ??= _bucketIndex;
            _bucketIndex = bucketIndex;
            _bytes = 0;
            _endsWithNewline = false;
        }
    }
}
