using System.Buffers;
using LogQuota.Runner.Logs;
using LogQuota.Runner.Logs.Sections;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// A job's output path: raw bytes through the terminal processor into stored text, offered to the quota policy, and
/// what the policy lets through (its markers and events too) appended to the journal. Each method returns the policy's
/// verdict, so a quota kill is decided in the read path, before the next read. Section markers are taken out on the
/// way and become the journal's section marks (JobOutput.Sections.cs). Not thread-safe: the job's lock guards every call.
/// </summary>
/// <param name="fault">Told why the journal could not take a record (the caller holds the job's lock).</param>
/// <param name="secrets">Replaces the job's secret values with <c>***</c> in its stored text and live region, before the quota counts; null without secrets.</param>
internal sealed partial class JobOutput(JobSpec spec, JobJournal journal, TimeProvider time, Action<string> fault, SecretMask? secrets = null) : IQuotaOutput
{
    private readonly TerminalProcessor _terminal = new(time, newLineReturns: !spec.Tty, columns: spec.Columns ?? JobSpecRules.DefaultColumns);
    private readonly QuotaPolicy _quota = new(spec.LogQuotaHour, spec.LogQuotaAction, spec.LogQuotaWarnAt, TimeSpan.FromSeconds(spec.LogQuotaKillGrace), time);
    private readonly ForgedMarkers _forgedMarkers = new();
    private readonly ArrayBufferWriter<byte> _lines = new(64 * 1024);
    private readonly ArrayBufferWriter<byte> _live = new(4 * 1024);

    // The style runs of the text offered to the quota now, over that text (after the forged markers' escapes).
    private readonly List<StoredRun> _offeredRuns = [];
    private readonly Dictionary<(string Sgr, string? Link), int> _styleIndex = [];

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
        _verdict = QuotaVerdict.Continue;
        _gitlab.Scan(chunk, this);
        return _verdict;
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
        _verdict = QuotaVerdict.Continue;
        _gitlab.Flush(this);
        _lines.ResetWrittenCount();
        _terminal.Finish(_lines);
        var verdict = Worse(_verdict, OfferToQuota(fromScreen: true));
        _sections.Finish();
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
    /// stored, kept as a dropped tail or reported as a repeated line holds none; then GitHub's and Buildkite's section
    /// markers are taken out, the text offered in the pieces between them (JobOutput.Sections.cs); then forged markers
    /// are defused: only the runner writes <c>[logquota]</c> lines. Lines taken from the screen as it stands (<paramref name="fromScreen"/>:
    /// at the job's end, or unchanged for 30 s) may be a redraw's mix, and fragments of values are masked there too.
    /// </summary>
    private QuotaVerdict OfferToQuota(bool fromScreen)
    {
        if (_lines.WrittenCount == 0)
        {
            return QuotaVerdict.Continue;
        }

        var written = _lines.WrittenSpan;
        var masked = secrets is null ? written : fromScreen ? secrets.ApplyToScreen(written) : secrets.Apply(written);
        // A masked value moves the bytes after it: style runs reaching past the first masked byte are left out of this
        // offer (its text stays exact; that stretch shows without colour).
        int unmasked = masked == written ? int.MaxValue : written.CommonPrefixLength(masked); // the same span when nothing was masked
        return OfferSections(masked, unmasked);
    }

    /// <summary>
    /// Offers <paramref name="segment"/> (at <paramref name="offset"/> of the masked text; style runs past
    /// <paramref name="unmasked"/> left out) with its forged markers defused and its style runs moved with it.
    /// </summary>
    private QuotaVerdict OfferSegment(ReadOnlySpan<byte> segment, int offset, int unmasked)
    {
        if (segment.IsEmpty)
        {
            return QuotaVerdict.Continue;
        }

        var text = _forgedMarkers.Defuse(segment);
        int end = offset + segment.Length;
        _offeredRuns.Clear();
        foreach (var run in _terminal.Styles)
        {
            if (run.Start + run.Length > unmasked || run.Start >= end)
            {
                break;
            }

            int from = Math.Max(run.Start, offset);
            int to = Math.Min(run.Start + run.Length, end);
            if (to > from)
            {
                int start = _forgedMarkers.Moved(from - offset);
                _offeredRuns.Add(run with { Start = start, Length = to - from });
            }
        }

        return _quota.Offer(text, this);
    }

    /// <summary>The quota lets a prefix of the offered text through: the runs over it, with their styles once each.</summary>
    private LogStyles? StylesOf(int length)
    {
        if (_offeredRuns.Count == 0)
        {
            return null;
        }

        _styleIndex.Clear();
        var styles = new List<LogStyle>();
        var runs = new List<int>(_offeredRuns.Count * 3);
        foreach (var run in _offeredRuns)
        {
            int end = Math.Min(run.Start + run.Length, length);
            if (end <= run.Start)
            {
                break;
            }

            if (!_styleIndex.TryGetValue((run.Sgr, run.Link), out int index))
            {
                index = styles.Count;
                _styleIndex[(run.Sgr, run.Link)] = index;
                styles.Add(new LogStyle(run.Sgr, run.Link));
            }

            runs.Add(run.Start);
            runs.Add(end - run.Start);
            runs.Add(index);
        }

        _offeredRuns.Clear(); // the quota lets text through once per offer
        return runs.Count == 0 ? null : new LogStyles(styles, runs);
    }

    void IQuotaOutput.Append(ReadOnlySpan<byte> text) => AppendToJournal(text, LogSource.Stdout, StylesOf(text.Length));

    void IQuotaOutput.AppendRunner(ReadOnlySpan<byte> text) => AppendToJournal(text, LogSource.Runner, null);

    void IQuotaOutput.Event(string type, string message) => journal.RecordEvent(type, message);

    private void AppendToJournal(ReadOnlySpan<byte> text, LogSource source, LogStyles? styles)
    {
        if (journal.Append(text, source, styles) is { } failure)
        {
            fault(failure);
        }
    }
}
