using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Storage;

/// <summary>
/// A job's way into its spool when the disk may fill (SPEC §7: a full disk pauses, it never fails a job). A record the
/// file system refuses for room (<c>ENOSPC</c>, <c>EDQUOT</c>) is held, and every record after it waits behind it,
/// until <see cref="TryStore"/> finds room again; meanwhile the job's reader pauses (<see cref="Stalled"/>), so the job
/// blocks on its own writes as behind a slow terminal, and what is held stays within one read's worth of output. A
/// record gets its timestamp when it is written, never before: a pull that saw a later event (the stall's) never
/// passes over a record committed after it. One job's lock guards every call.
/// </summary>
/// <param name="spool">The job's spool.</param>
/// <param name="nextTimestamp">The job's strictly increasing timestamps, shared with its states and events.</param>
/// <param name="stored">Told the length of each record written, for the metrics.</param>
internal sealed class HeldRecords(LogSpool spool, Func<long> nextTimestamp, Action<int> stored)
{
    private readonly Queue<(byte[] Text, LogSource Source, LogStyles? Styles)> _held = new();
    private bool _givenUp;

    /// <summary>True while records wait for room: the job's output must not be read meanwhile.</summary>
    public bool Stalled => _held.Count > 0;

    /// <summary>Bytes of the records waiting.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>Bytes that were never stored: held when the job ended with the disk still full, or refused after that.</summary>
    public long LostBytes { get; private set; }

    /// <summary>
    /// Stores <paramref name="text"/> after whatever is held, or holds it. True when this call began a stall (the
    /// spool had no room and nothing was held before). Throws <see cref="IOException"/> for any other write failure.
    /// </summary>
    public bool Append(ReadOnlySpan<byte> text, LogSource source, LogStyles? styles = null)
    {
        if (_held.Count == 0 && TryWrite(text, source, styles))
        {
            return false;
        }

        if (_givenUp)
        {
            // The job is ending and nothing reads its output more slowly now: what finds no room is counted, not held.
            LostBytes += text.Length;
            return false;
        }

        _held.Enqueue((text.ToArray(), source, styles));
        HeldBytes += text.Length;
        return _held.Count == 1;
    }

    /// <summary>Writes the held records in order until one finds no room. True when nothing is held any more.</summary>
    public bool TryStore()
    {
        while (_held.TryPeek(out var record))
        {
            if (!TryWrite(record.Text, record.Source, record.Styles))
            {
                return false;
            }

            _held.Dequeue();
            HeldBytes -= record.Text.Length;
        }

        return true;
    }

    /// <summary>
    /// The job is ending (killed, stopped) while the disk is still full: what is held is dropped and counted, and
    /// from now on a record without room is counted instead of held, so the job's end never waits for space.
    /// Returns the bytes dropped now.
    /// </summary>
    public long GiveUp()
    {
        _givenUp = true;
        var dropped = HeldBytes;
        LostBytes += dropped;
        HeldBytes = 0;
        _held.Clear();
        return dropped;
    }

    private bool TryWrite(ReadOnlySpan<byte> text, LogSource source, LogStyles? styles)
    {
        if (!spool.TryAppend(nextTimestamp(), text, source, styles))
        {
            return false;
        }

        stored(text.Length);
        return true;
    }
}
