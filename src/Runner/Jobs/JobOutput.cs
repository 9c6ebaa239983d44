using System.Buffers;
using LogQuota.Runner.Logs;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// A job's output path: raw bytes through the terminal processor into stored text, offered to the quota policy, and
/// what the policy lets through (its markers and events too) appended to the journal. Each method returns the policy's
/// verdict, so a quota kill is decided in the read path, before the next read. Not thread-safe: the job's lock guards
/// every call.
/// </summary>
/// <param name="fault">Told why the journal could not take a record (the caller holds the job's lock).</param>
/// <param name="secrets">Replaces the job's secret values with <c>***</c> in its stored text and live region, before the quota counts; null without secrets.</param>
internal sealed class JobOutput(JobSpec spec, JobJournal journal, TimeProvider time, Action<string> fault, SecretMask? secrets = null) : IQuotaOutput
{
    private readonly TerminalProcessor _terminal = new(time, newLineReturns: !spec.Tty);
    private readonly QuotaPolicy _quota = new(spec.LogQuotaHour, spec.LogQuotaAction, spec.LogQuotaWarnAt, TimeSpan.FromSeconds(spec.LogQuotaKillGrace), time);
    private readonly ForgedMarkers _forgedMarkers = new();
    private readonly ArrayBufferWriter<byte> _lines = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _live = new(4 * 1024);

    /// <summary>No more output is processed: the job ended, or its output is dropped (a quota kill, a fault).</summary>
    public bool Closed { get; private set; }

    /// <summary>The quota in bytes per hour; null when unlimited.</summary>
    public long? QuotaLimit => _quota.Limit;

    /// <summary>SIGTERM → SIGKILL grace of a quota kill.</summary>
    public TimeSpan KillGrace => _quota.KillGrace;

    /// <summary>Counted bytes in the quota's current bucket.</summary>
    public long BytesThisHour => _quota.BytesThisHour;

    /// <summary>A chunk the job wrote: what the terminal lets go of is offered to the quota.</summary>
    public QuotaVerdict Read(ReadOnlySpan<byte> chunk)
    {
        _lines.ResetWrittenCount();
        _terminal.Process(chunk, _lines);
        return OfferToQuota(fromScreen: false);
    }

    /// <summary>About once a second: lines unchanged for 30 s leave the terminal (SPEC §2), and a silent job's quota bucket ends on time.</summary>
    public QuotaVerdict Tick()
    {
        _lines.ResetWrittenCount();
        _terminal.StoreStale(_lines);
        var verdict = OfferToQuota(fromScreen: true);

        // A truncate's drop report is stored within a tick of its bucket's end.
        _quota.Tick(this);
        return verdict;
    }

    /// <summary>The job has ended: what its screen still holds is final and offered now, and no more output follows.</summary>
    public QuotaVerdict Finish()
    {
        _lines.ResetWrittenCount();
        _terminal.Finish(_lines);
        var verdict = OfferToQuota(fromScreen: true);
        Closed = true;
        return verdict;
    }

    /// <summary>The quota's last bucket ends with the job: what truncate dropped in it is reported now.</summary>
    public void FinishQuota() => _quota.Finish(this);

    /// <summary>Output is dropped from now on (read only so that the job's writes never block before it dies).</summary>
    public void Close() => Closed = true;

    /// <summary>Output read and dropped after a quota kill: it still counts as dropped.</summary>
    public void DroppedAfterKill(ReadOnlySpan<byte> chunk) => _quota.DroppedAfterKill(chunk);

    /// <summary>One of the runner's <c>[logquota]</c> lines, on a line of its own (the disk limit's).</summary>
    public void Marker(string message) => _quota.Marker(this, message);

    /// <summary>The <c>log_quota</c> block as of now.</summary>
    public LogQuotaStatus QuotaStatus() => _quota.Status();

    /// <summary>The lines the terminal still holds (the live region), or null when there are none or the output is closed.</summary>
    public byte[]? Live()
    {
        if (Closed)
        {
            return null;
        }

        _live.ResetWrittenCount();
        if (!_terminal.WriteLive(_live))
        {
            return null;
        }

        return secrets is null ? _live.WrittenSpan.ToArray() : secrets.ApplyLive(_live.WrittenSpan);
    }

    /// <summary>
    /// Offers the text the terminal let go of to the quota policy, which appends what its action lets through, with its
    /// warnings and markers (as <see cref="IQuotaOutput"/>). Secret values are masked first, so that what is counted,
    /// stored, kept as a dropped tail or reported as a repeated line holds none; then forged markers are defused: only
    /// the runner writes <c>[logquota]</c> lines. Lines taken from the screen as it stands (<paramref name="fromScreen"/>:
    /// at the job's end, or unchanged for 30 s) may be a redraw's mix, and fragments of values are masked there too.
    /// </summary>
    private QuotaVerdict OfferToQuota(bool fromScreen)
    {
        if (_lines.WrittenCount == 0)
        {
            return QuotaVerdict.Continue;
        }

        var text = secrets is null ? _lines.WrittenSpan : fromScreen ? secrets.ApplyToScreen(_lines.WrittenSpan) : secrets.Apply(_lines.WrittenSpan);
        return _quota.Offer(_forgedMarkers.Defuse(text), this);
    }

    void IQuotaOutput.Append(ReadOnlySpan<byte> text) => AppendToJournal(text, LogSource.Stdout);

    void IQuotaOutput.AppendRunner(ReadOnlySpan<byte> text) => AppendToJournal(text, LogSource.Runner);

    void IQuotaOutput.Event(string type, string message) => journal.RecordEvent(type, message);

    private void AppendToJournal(ReadOnlySpan<byte> text, LogSource source)
    {
        if (journal.Append(text, source) is { } failure)
        {
            fault(failure);
        }
    }
}
