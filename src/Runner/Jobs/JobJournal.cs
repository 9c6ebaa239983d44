using LogQuota.Runner.Quota;
using LogQuota.Runner.Storage;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// What a job leaves for its server to pull: its log records in the spool (held while the disk is full), its states and
/// its events, all on one strictly increasing clock, and the pages a pull reads of them. Not thread-safe: the job's lock
/// guards every call but <see cref="Read"/>, which reads the spool below a length taken under it.
/// </summary>
/// <remarks>
/// Every record, state and event becomes visible to a pull in <see cref="Published"/>, and nowhere else.
/// </remarks>
internal sealed class JobJournal : IDisposable
{
    private readonly Guid _jobId;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Action<int>? _recordWritten;
    private readonly LogSpool _spool;
    private readonly HeldRecords _held;
    private readonly List<JobStateEvent> _states = [];
    private readonly List<JobEvent> _events = [];
    private readonly List<LogSectionMark> _sections = [];
    private long _lastTimestamp;

    /// <summary>Read without the job's lock (the metrics' gauges): one word, written only under it.</summary>
    private volatile JobState _lastState = JobState.Running;

    /// <summary>When the current stall on a full disk began (the clock's timestamp).</summary>
    private long _stalledSince;

    /// <summary>A spool write failed other than for room: no record is taken any more (states and events still are).</summary>
    private bool _recordsRefused;

    /// <param name="spoolPath">The job's spool file, created here.</param>
    /// <param name="recordWritten">Told of everything published: the length of each record written (for the metrics), 0 for a state or an event (the runner's stream).</param>
    public JobJournal(Guid jobId, string spoolPath, TimeProvider time, ILogger logger, Action<int>? recordWritten = null)
    {
        _jobId = jobId;
        _time = time;
        _logger = logger;
        _recordWritten = recordWritten;
        _spool = new LogSpool(spoolPath);
        _held = new HeldRecords(_spool, NextTimestamp, Published);
    }

    /// <summary>
    /// Lines of the records taken so far, numbered as the server numbers a job's lines (a record that does not end in a
    /// newline still ends its last line): a section mark names the line it comes before.
    /// </summary>
    public long Lines { get; private set; }

    /// <summary>Bytes of the spool file on disk.</summary>
    public long SpoolBytes => _spool.Length;

    /// <summary>The latest recorded state; <see cref="JobState.Running"/> before the first.</summary>
    public JobState LastState => _lastState;

    /// <summary>The final state is recorded.</summary>
    public bool Final => _lastState.IsFinal();

    /// <summary>True while records wait for room on a full disk: the job's output must not be read meanwhile.</summary>
    public bool Stalled => _held.Stalled;

    /// <summary>Bytes of output that were never stored: the job ended with the disk still full.</summary>
    public long LostBytes => _held.LostBytes;

    /// <summary>
    /// Appends a log record, or holds it while the disk is full (the first one held records <c>log_stalled</c>). A
    /// write that fails other than for room is a fault: the returned message says so, and no record is taken after it.
    /// </summary>
    public string? Append(ReadOnlySpan<byte> text, LogSource source, LogStyles? styles = null)
    {
        if (_recordsRefused)
        {
            return null;
        }

        Lines += text.Count((byte)'\n') + (text.IsEmpty || text[^1] != '\n' ? 1 : 0);
        try
        {
            if (_held.Append(text, source, styles))
            {
                _stalledSince = _time.GetTimestamp();
                RecordEvent(JobEventTypes.LogStalled,
                    "The runner's disk is full: reading this job's output is paused until space returns; nothing is dropped");
            }

            return null;
        }
        catch (IOException e)
        {
            // EIO, EFBIG: the spool keeps every record committed before (a torn record is past the committed length,
            // so no reader ever sees it); the job cannot go on unrecorded. A full disk is no fault: it is held above.
            return $"log spool write failed: {JobFaults.Describe(e)}";
        }
    }

    /// <summary>The job is ended by a fault: the records it still offers are not taken.</summary>
    public void RefuseRecords() => _recordsRefused = true;

    /// <summary>
    /// Tries to store what is held. True when nothing is held any more: it was stored, or, when
    /// <paramref name="ending"/> (the job is being ended by force), dropped and counted, so that no end waits for space.
    /// <paramref name="fault"/> says why a write failed other than for room.
    /// </summary>
    public bool TryLeaveStall(bool ending, out string? fault)
    {
        fault = null;
        if (!_held.Stalled)
        {
            return true;
        }

        var held = _held.HeldBytes;
        try
        {
            if (_held.TryStore())
            {
                RecordEvent(JobEventTypes.LogResumed, $"Space returned after {QuotaText.Duration(_time.GetElapsedTime(_stalledSince))}: the {QuotaText.Bytes(held)} of output held are stored, and reading goes on");
                return true;
            }
        }
        catch (IOException e)
        {
            fault = $"log spool write failed: {JobFaults.Describe(e)}";
            ending = true;
        }

        if (!ending)
        {
            return false;
        }

        var dropped = _held.GiveUp();
        RecordEvent(JobEventTypes.LogResumed, $"The job is being ended while the disk is still full: the {QuotaText.Bytes(dropped)} of output held are dropped, and so is what finds no room from now on");
        return true;
    }

    public void RecordState(JobStateEvent state)
    {
        _states.Add(state);
        _lastState = state.State;
        Published(0);
    }

    /// <summary>A section mark, before the next line stored (<see cref="LogSectionMark"/> says what each field holds).</summary>
    public void RecordSection(
        LogSectionMarkKind kind, int section, LogSectionFormat? format = null, string? name = null, string? title = null, int? parent = null, bool collapsed = false)
    {
        _sections.Add(new LogSectionMark(NextTimestamp(), kind, section, Lines + 1, format, name, title, parent, collapsed));
        Published(0);
    }

    public void RecordEvent(string type, string message)
    {
        var timestamp = NextTimestamp();
        _events.Add(new JobEvent(timestamp, type, message));
        _logger.LogInformation("Job {JobId}: {EventType}: {EventMessage}", _jobId, type, message);
        Published(0);
    }

    /// <summary>
    /// A record (<paramref name="recordBytes"/> of log text; 0 for a state or an event) was just added, and a pull from
    /// now on sees it: the one place where what the job leaves becomes visible.
    /// </summary>
    private void Published(int recordBytes) => _recordWritten?.Invoke(recordBytes);

    /// <summary>What a pull after <paramref name="after"/> will read: the states and events, and the spool's committed length, as of now.</summary>
    public JournalView View(long after) =>
        new(after, _spool.Length, _states.FindAll(s => s.Timestamp > after), _events.FindAll(e => e.Timestamp > after),
            _sections.Count == 0 || _sections[^1].Timestamp <= after ? [] : _sections.FindAll(s => s.Timestamp > after));

    /// <summary>
    /// Reads the logs of <paramref name="view"/>, at most about <paramref name="maxLogBytes"/> of text; outside the job's
    /// lock, since the spool never changes below the committed length.
    /// </summary>
    public JournalPage Read(JournalView view, int maxLogBytes)
    {
        var (after, committed, states, events, sections) = view;
        var logs = new List<LogEvent>();
        var truncated = _spool.Read(after, committed, maxLogBytes, logs);
        if (truncated)
        {
            // A state newer than the last log in this answer would let the caller skip the logs
            // between them; it comes with a later page.
            var lastLog = logs[^1].Timestamp;
            states.RemoveAll(s => s.Timestamp > lastLog);
            events.RemoveAll(e => e.Timestamp > lastLog);
            sections.RemoveAll(s => s.Timestamp > lastLog);
        }

        var lastUpdated = after;
        if (logs.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, logs[^1].Timestamp);
        }

        if (states.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, states[^1].Timestamp);
        }

        if (events.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, events[^1].Timestamp);
        }

        if (sections.Count > 0)
        {
            lastUpdated = Math.Max(lastUpdated, sections[^1].Timestamp);
        }

        return new JournalPage(states, logs, events, sections, lastUpdated, truncated);
    }

    /// <summary>Wall-clock milliseconds, bumped to stay strictly increasing within the job.</summary>
    public long NextTimestamp()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _lastTimestamp = Math.Max(now, _lastTimestamp + 1);
        return _lastTimestamp;
    }

    public void Dispose() => _spool.Dispose();
}

/// <summary>A pull's snapshot, taken under the job's lock: states, events and section marks after <paramref name="After"/>, and the spool's committed length.</summary>
internal sealed record JournalView(long After, long Committed, List<JobStateEvent> States, List<JobEvent> Events, List<LogSectionMark> Sections);

/// <summary>One page of a job's journal: its states, logs, events and section marks, the last timestamp in it, and whether logs were left for the next page.</summary>
internal sealed record JournalPage(List<JobStateEvent> States, List<LogEvent> Logs, List<JobEvent> Events, List<LogSectionMark> Sections, long LastUpdated, bool Truncated);
