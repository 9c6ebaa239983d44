using System.Globalization;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Quota;

/// <summary>Where <see cref="QuotaPolicy"/> puts what it decides: job output it lets through, runner lines, events.</summary>
internal interface IQuotaOutput
{
    /// <summary>Appends job output to the job's log (<c>log_source: stdout</c>); it is counted already.</summary>
    void Append(ReadOnlySpan<byte> text);

    /// <summary>Appends a line the runner writes (<c>log_source: runner</c>): a marker or a dropped tail; never counted.</summary>
    void AppendRunner(ReadOnlySpan<byte> text);

    /// <summary>Records a job event (<c>log_quota_warning</c>, <c>log_quota_exceeded</c>, <c>log_truncated</c>).</summary>
    void Event(string type, string message);
}

/// <summary>What the read path must do after <see cref="QuotaPolicy.Offer"/>.</summary>
internal enum QuotaVerdict
{
    /// <summary>Go on reading and offering.</summary>
    Continue,

    /// <summary>The quota was crossed under <c>kill</c>: kill the job now (or SIGTERM it, with a grace).</summary>
    Kill,
}

/// <summary>
/// A job's quota policy (SPEC §2 "Quota policy: warn, then act"): the hourly window, the action at the crossing,
/// the warnings before it, the markers and events, and the evidence of the bucket (top repeated lines, bytes per
/// minute, the tail of what <c>truncate</c> dropped). Pure and synchronous: the job's read path offers each piece of
/// stored text under its lock, and the decision, the markers and the kill verdict come back before the next read.
/// </summary>
/// <remarks>
/// Memory is fixed whatever the job writes: <see cref="RepeatedLines"/> (~14 KiB), <see cref="OutputRate"/>
/// (120 longs), <see cref="DroppedTail"/> (64 KiB, allocated only for <c>truncate</c>) and one frozen report.
/// Not thread-safe.
/// </remarks>
internal sealed class QuotaPolicy
{
    /// <summary>Lines shown in a report.</summary>
    public const int ReportedLines = 5;

    private static readonly int[] DefaultWarnAt = [80];

    private readonly HourlyLogQuota _window;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _startedAt;
    private readonly int[] _warnAt;
    private readonly bool[] _warned;
    private readonly RepeatedLines _lines = new();
    private readonly OutputRate _rate = new();
    private readonly DroppedTail? _tail;
    private readonly DroppedCount _bucketDrops = new();
    private bool _crossed;
    private bool _dropping;
    private bool _dropsReported;
    private bool _storedEndsWithNewline = true;
    private long _droppedTotal;
    private DateTimeOffset? _exceededAt;
    private LogQuotaReport? _lastReport;

    /// <param name="limit">Bytes per bucket; null (or below 1) is unlimited: nothing is counted but the bytes.</param>
    /// <param name="action">What happens at the crossing.</param>
    /// <param name="warnAt">Warning percentages; null is the default (80), empty disables warnings.</param>
    /// <param name="killGrace">SIGTERM → SIGKILL grace of a quota kill, for the marker's words.</param>
    /// <param name="time">The clock; its timestamp now is the job's start.</param>
    public QuotaPolicy(long? limit, LogQuotaAction action, IReadOnlyList<int>? warnAt, TimeSpan killGrace, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _startedAt = time.GetUtcNow();
        _window = new HourlyLogQuota(limit, time);
        Action = action;
        KillGrace = killGrace;
        _warnAt = [.. (warnAt ?? DefaultWarnAt).Where(p => p is > 0 and < 100).Distinct().Order()];
        _warned = new bool[_warnAt.Length];
        _tail = action.KeepsTail() && _window.Limit is not null ? new DroppedTail() : null;
    }

    public long? Limit => _window.Limit;

    public LogQuotaAction Action { get; }

    public TimeSpan KillGrace { get; }

    /// <summary>Counted bytes in the current bucket.</summary>
    public long BytesThisHour => _window.BytesThisHour;

    /// <summary>
    /// Counts <paramref name="text"/> (whole lines from the terminal processor) and stores what the action lets
    /// through; warns, marks and reports on the way. <see cref="QuotaVerdict.Kill"/> means the job must die now.
    /// </summary>
    public QuotaVerdict Offer(ReadOnlySpan<byte> text, IQuotaOutput output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_window.Limit is not { } limit)
        {
            LetThrough(text, output);
            return QuotaVerdict.Continue;
        }

        Roll(output);
        var inBucket = _window.ElapsedInBucket;
        _rate.Add(text.Length, inBucket);
        _lines.AddLines(text);
        if (_dropping)
        {
            Drop(text);
            return QuotaVerdict.Continue;
        }

        if (!Action.DropsOutput())
        {
            LetThrough(text, output);
            Warn(limit, inBucket, output);
            if (_window.BytesThisHour > limit && !_crossed)
            {
                Cross(limit, output, "observe only: nothing is dropped");
            }

            return QuotaVerdict.Continue;
        }

        var fit = _window.Fit(text.Length);
        if (fit >= text.Length)
        {
            LetThrough(text, output);
            Warn(limit, inBucket, output);
            return QuotaVerdict.Continue;
        }

        var keep = QuotaCut.Cut(text, fit, _window.MayCutMidLine);
        LetThrough(text[..keep], output);
        Warn(limit, inBucket, output);
        if (Action.Kills())
        {
            CountDropped(text[keep..]);
            Cross(limit, output, KillGrace > TimeSpan.Zero
                ? $"the job is being stopped: SIGTERM now, SIGKILL in {QuotaText.Duration(KillGrace)}"
                : "the job is being killed");
            return QuotaVerdict.Kill;
        }

        Cross(limit, output, $"output is dropped until {QuotaText.Clock(BucketResetsAt)}");
        _dropping = true;
        Drop(text[keep..]);
        return QuotaVerdict.Continue;
    }

    /// <summary>Counts output read and dropped after a quota kill (during the grace).</summary>
    public void DroppedAfterKill(ReadOnlySpan<byte> chunk) => CountDropped(chunk);

    /// <summary>Called about once a second: ends a bucket on time even when the job is silent.</summary>
    public void Tick(IQuotaOutput output)
    {
        if (_window.Limit is not null)
        {
            Roll(output);
        }
    }

    /// <summary>The job has ended: the current bucket's drops are reported now, as at a bucket's end.</summary>
    public void Finish(IQuotaOutput output)
    {
        if (_window.Limit is not null)
        {
            Roll(output);
            ReportDrops(output);
        }
    }

    /// <summary>The <c>log_quota</c> block as of now.</summary>
    public LogQuotaStatus Status()
    {
        var bucketStart = BucketStartedAt;
        return new LogQuotaStatus(
            _window.Limit, Action, _window.BytesThisHour, bucketStart, bucketStart.AddHours(1), _droppedTotal, _exceededAt,
            _crossed ? Report() : _lastReport);
    }

    /// <summary>
    /// When <paramref name="remaining"/> bytes run out at <paramref name="bytesPerSecond"/>; null when nothing is
    /// being written (no rate, no exhaustion).
    /// </summary>
    /// <remarks>Capped at a day: past the hour's reset the exact figure means nothing, and a quota near
    /// <see cref="long.MaxValue"/> bytes would overflow a <see cref="TimeSpan"/>.</remarks>
    public static TimeSpan? TimeToExhaustion(long remaining, double bytesPerSecond) =>
        bytesPerSecond <= 0 ? null : TimeSpan.FromSeconds(Math.Min(Math.Max(0, remaining) / bytesPerSecond, 86_400));

    /// <summary>The current bucket's start on the wall clock: the job's start plus whole hours (buckets themselves
    /// are measured on the monotonic clock, so a wall-clock step moves these times, never a boundary).</summary>
    private DateTimeOffset BucketStartedAt => StartOf(_window.BucketIndex);

    private DateTimeOffset BucketResetsAt => BucketStartedAt.AddHours(1);

    private DateTimeOffset StartOf(long bucket) => _startedAt.AddHours(bucket);

    private void LetThrough(ReadOnlySpan<byte> text, IQuotaOutput output)
    {
        if (text.IsEmpty)
        {
            return;
        }

        output.Append(text);
        _window.Consume(text);
        _storedEndsWithNewline = text[^1] == '\n';
    }

    private void Drop(ReadOnlySpan<byte> text)
    {
        CountDropped(text);
        _tail?.Add(text);
    }

    /// <summary>Job output not stored because of the quota: it counts for the job's life and for its bucket alike.</summary>
    private void CountDropped(ReadOnlySpan<byte> text)
    {
        _droppedTotal += text.Length;
        _bucketDrops.Add(text);
    }

    private void Warn(long limit, TimeSpan inBucket, IQuotaOutput output)
    {
        var used = _window.BytesThisHour;
        for (var i = 0; i < _warnAt.Length; i++)
        {
            if (_warned[i] || !QuotaShare.Reached(used, _warnAt[i], limit))
            {
                continue;
            }

            _warned[i] = true;
            var rate = _rate.LastMinuteBytesPerSecond(inBucket);
            var exhaustion = TimeToExhaustion(limit - used, rate);
            var resetsAt = BucketResetsAt;
            var when = exhaustion is not { } left
                ? "nothing was written in the last minute"
                : _time.GetUtcNow() + left >= resetsAt
                    ? $"at the last minute's rate ({QuotaText.Bytes(rate)}/s) it lasts until the reset"
                    : $"at the last minute's rate ({QuotaText.Bytes(rate)}/s) it is exhausted in {QuotaText.Duration(left)}";
            // The share actually used: one read may carry a job from below a threshold to the whole quota at once.
            var percent = QuotaShare.Percent(used, limit);
            var threshold = percent == _warnAt[i] ? "" : string.Create(CultureInfo.InvariantCulture, $" (warning at {_warnAt[i]}%)");
            var message = string.Create(CultureInfo.InvariantCulture,
                $"{percent}% of the log quota used{threshold}: {used} of {limit} bytes ({QuotaText.Bytes(used)} of {QuotaText.Bytes(limit)}) this hour; {when}; the quota resets at {QuotaText.Clock(resetsAt)} (action: {ActionWord})");
            Marker(output, "warning: " + message);
            output.Event(JobEventTypes.LogQuotaWarning, message);
        }
    }

    private void Cross(long limit, IQuotaOutput output, string consequence)
    {
        _crossed = true;
        _exceededAt = _time.GetUtcNow();
        var message = $"log quota of {QuotaText.Bytes(limit)} for this hour reached; {consequence}";
        Marker(output, message);
        output.Event(JobEventTypes.LogQuotaExceeded, string.Create(CultureInfo.InvariantCulture, $"{message} ({limit} bytes, action: {ActionWord})"));
    }

    /// <summary>Moves to the current bucket when the clock has left the last one: its drops are reported, its evidence frozen.</summary>
    private void Roll(IQuotaOutput output)
    {
        if (!_window.ReportingBucketEnded)
        {
            return;
        }

        var wasDropping = _dropping;
        ReportDrops(output);
        if (_crossed)
        {
            _lastReport = Report();
        }

        _window.MoveToCurrentBucket();
        _crossed = false;
        _dropping = false;
        _dropsReported = false;
        Array.Clear(_warned);
        _lines.Clear();
        _rate.Clear();
        _tail?.Clear();
        _bucketDrops.Clear();
        if (wasDropping)
        {
            Marker(output, $"a new hour of the log quota began at {QuotaText.Clock(StartOf(_window.ReportingBucket))}; output is stored again");
        }
    }

    private void ReportDrops(IQuotaOutput output)
    {
        if (_tail is null || _bucketDrops.Bytes == 0 || _dropsReported)
        {
            return;
        }

        _dropsReported = true;

        var dropped = string.Create(CultureInfo.InvariantCulture, $"{_bucketDrops.Bytes} bytes ({_bucketDrops.Lines} lines) were dropped");
        var bytes = _tail.Tail();
        var whole = bytes.Length == _bucketDrops.Bytes;
        Marker(output, whole ? $"{dropped}; they follow" : $"{dropped}; the last {QuotaText.Bytes(bytes.Length)} of them follow");
        output.AppendRunner(bytes);
        if (bytes.Length > 0 && bytes[^1] != '\n')
        {
            output.AppendRunner("\n"u8);
        }

        _storedEndsWithNewline = true;
        output.Event(JobEventTypes.LogTruncated, whole
            ? $"{dropped} in the hour from {QuotaText.Clock(StartOf(_window.ReportingBucket))}; all of it is stored after the marker"
            : $"{dropped} in the hour from {QuotaText.Clock(StartOf(_window.ReportingBucket))}; the last {QuotaText.Bytes(bytes.Length)} of it are stored after the marker");
    }

    private LogQuotaReport Report() =>
        new(StartOf(_window.ReportingBucket), _lines.Top(ReportedLines), _rate.PerMinute(), _bucketDrops.Bytes, _bucketDrops.Lines);

    /// <summary>Writes one marker line; after stored text that ends mid-line it starts a line of its own.</summary>
    /// <summary>Stores one of the runner's own <c>[logquota] </c> lines, on a line of its own; the disk limit's too.</summary>
    public void Marker(IQuotaOutput output, string message)
    {
        ArgumentNullException.ThrowIfNull(output);
        var line = (_storedEndsWithNewline ? "" : "\n") + QuotaText.MarkerPrefix + message + "\n";
        output.AppendRunner(Encoding.UTF8.GetBytes(line));
        _storedEndsWithNewline = true;
    }

    private string ActionWord => WireNames.Of(Action);
}
