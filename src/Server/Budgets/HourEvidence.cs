using System.Buffers.Binary;
using System.Text;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Budgets;

/// <summary>
/// What filled one hour of a project's budget, as the per-job quota keeps it for a job's hour: the most repeated lines
/// (<see cref="LineCounters"/>), the stored bytes of each minute, the dropped lines, and the last
/// <see cref="TailCapacity"/> bytes the budget dropped with the run each piece came from. Read from its row and written
/// back by the charge of each page, under the hour's lock; all of it bounded whatever the jobs write (about 14 KiB of
/// counters, 480 bytes of minutes, 64 KiB of tail).
/// </summary>
internal sealed class HourEvidence
{
    /// <summary>Dropped text kept per project hour: the per-job quota's 64 KiB, enough for the traceback a runaway ends with.</summary>
    public const int TailCapacity = 64 * 1024;

    /// <summary>Lines shown in a report, as for a job's quota.</summary>
    public const int ReportedLines = 5;

    /// <summary>The stored format; a row of another one is read as empty (the hour's evidence starts over).</summary>
    private const byte Format = 1;

    private readonly long[] _perMinute = new long[60];
    private readonly List<(Guid Run, byte[] Text)> _tail = [];
    private int _tailBytes;

    /// <summary>Bytes of the first piece no longer kept.</summary>
    private int _tailSkip;
    private bool _tailCut;
    private bool _minutesChanged;
    private bool _tailChanged;

    public LineCounters Lines { get; } = new();

    public long DroppedLines { get; private set; }

    /// <summary>Counts the lines <paramref name="run"/> wrote, stored or dropped.</summary>
    public void Wrote(ReadOnlySpan<byte> text, Guid run) => Lines.AddLines(text, run);

    /// <summary>Adds <paramref name="bytes"/> stored at <paramref name="inHour"/> to that minute.</summary>
    public void Stored(long bytes, TimeSpan inHour)
    {
        _perMinute[Math.Clamp((int)inHour.TotalMinutes, 0, 59)] += bytes;
        _minutesChanged = true;
    }

    /// <summary>Keeps the end of what the budget dropped of <paramref name="run"/>'s output.</summary>
    public void Dropped(ReadOnlySpan<byte> text, Guid run)
    {
        if (text.IsEmpty)
        {
            return;
        }

        DroppedLines += text.Count((byte)'\n');
        _tailChanged = true;
        if (text.Length > TailCapacity)
        {
            text = text[^TailCapacity..];
            _tailCut = true;
        }

        // Pieces are added as they come and merged once, when written: a page drops its events one by one, and
        // merging each into a 64 KiB piece would copy the whole tail per event.
        _tail.Add((run, text.ToArray()));
        _tailBytes += text.Length;
        while (_tailBytes > TailCapacity)
        {
            _tailCut = true;
            var excess = _tailBytes - TailCapacity;
            var rest = _tail[0].Text.Length - _tailSkip;
            if (rest <= excess)
            {
                _tail.RemoveAt(0);
                _tailBytes -= rest;
                _tailSkip = 0;
            }
            else
            {
                _tailSkip += excess;
                _tailBytes -= excess;
            }
        }
    }

    /// <summary>The runs the report names.</summary>
    public IEnumerable<Guid> Runs() => Lines.Top(ReportedLines).Select(l => l.Run).Concat(_tail.Select(p => p.Run)).Distinct();

    /// <summary>The kept pieces, consecutive ones of one run merged.</summary>
    private List<(Guid Run, byte[] Text)> Pieces()
    {
        var pieces = new List<(Guid Run, byte[] Text)>();
        for (var i = 0; i < _tail.Count; i++)
        {
            var run = _tail[i].Run;
            var end = i + 1;
            while (end < _tail.Count && _tail[end].Run == run)
            {
                end++;
            }

            var merged = new byte[_tail.Skip(i).Take(end - i).Sum(p => p.Text.Length) - (i == 0 ? _tailSkip : 0)];
            var at = 0;
            for (var k = i; k < end; k++)
            {
                var part = k == 0 ? _tail[k].Text.AsSpan(_tailSkip) : _tail[k].Text;
                part.CopyTo(merged.AsSpan(at));
                at += part.Length;
            }

            pieces.Add((run, merged));
            i = end - 1;
        }

        return pieces;
    }

    /// <summary>The report of the hour from <paramref name="hourStart"/>, naming runs by <paramref name="runNames"/> (a run deleted since is null).</summary>
    public ProjectBudgetReport Report(DateTimeOffset hourStart, long usedBytes, long droppedBytes, IReadOnlyDictionary<Guid, string> runNames)
    {
        var last = Array.FindLastIndex(_perMinute, m => m != 0);
        return new ProjectBudgetReport(
            hourStart,
            [.. Lines.Top(ReportedLines).Select(l => new ProjectRepeatedLine(l.Line, l.Count, l.Error, runNames.GetValueOrDefault(l.Run)))],
            _perMinute[..(last + 1)],
            usedBytes,
            droppedBytes,
            DroppedLines,
            [.. Tail().Select(p => new DroppedText(runNames.GetValueOrDefault(p.Run), Encoding.UTF8.GetString(p.Text)))]);
    }

    public static HourEvidence Read(ProjectBudgetEvidenceEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var evidence = new HourEvidence { DroppedLines = row.DroppedLines };
        if (row.BytesPerMinute.Length == 60 * sizeof(long))
        {
            for (var i = 0; i < 60; i++)
            {
                evidence._perMinute[i] = BinaryPrimitives.ReadInt64LittleEndian(row.BytesPerMinute.AsSpan(i * sizeof(long)));
            }
        }

        try
        {
            if (Reader(row.TopLines) is { } lines)
            {
                using (lines)
                {
                    evidence.Lines.Read(lines);
                }
            }

            if (Reader(row.DroppedTail) is { } tail)
            {
                using (tail)
                {
                    evidence.ReadTail(tail);
                }
            }
        }
        catch (EndOfStreamException)
        {
            // A cut row (it cannot be, short of a damaged database) loses that hour's evidence, never the page.
        }

        return evidence;
    }

    /// <summary>Writes back what changed since <see cref="Read"/>; what did not change is not rewritten.</summary>
    public void WriteTo(ProjectBudgetEvidenceEntity row)
    {
        ArgumentNullException.ThrowIfNull(row);
        row.DroppedLines = DroppedLines;
        if (_minutesChanged)
        {
            var minutes = new byte[60 * sizeof(long)];
            for (var i = 0; i < 60; i++)
            {
                BinaryPrimitives.WriteInt64LittleEndian(minutes.AsSpan(i * sizeof(long)), _perMinute[i]);
            }

            row.BytesPerMinute = minutes;
        }

        if (Lines.Changed)
        {
            row.TopLines = Write(Lines.Write);
        }

        if (_tailChanged)
        {
            row.DroppedTail = Write(WriteTail);
        }
    }

    /// <summary>The kept pieces; when more was dropped than kept, from just after the first <c>\n</c> so the tail begins with a whole line.</summary>
    private List<(Guid Run, byte[] Text)> Tail()
    {
        var pieces = Pieces();
        if (!_tailCut)
        {
            return pieces;
        }

        for (var i = 0; i < pieces.Count; i++)
        {
            var newline = Array.IndexOf(pieces[i].Text, (byte)'\n');
            if (newline < 0)
            {
                continue;
            }

            var rest = pieces[i].Text[(newline + 1)..];
            if (rest.Length == 0 && i == pieces.Count - 1)
            {
                // The only newline ends the tail: a tail of one long line is shown as it is.
                return pieces;
            }

            return [.. (rest.Length > 0 ? [(pieces[i].Run, rest)] : Array.Empty<(Guid, byte[])>()), .. pieces[(i + 1)..]];
        }

        return pieces;
    }

    private void WriteTail(BinaryWriter writer)
    {
        var pieces = Pieces();
        writer.Write(_tailCut);
        writer.Write(pieces.Count);
        foreach (var (run, text) in pieces)
        {
            writer.Write(run.ToByteArray());
            writer.Write(text.Length);
            writer.Write(text);
        }
    }

    private void ReadTail(BinaryReader reader)
    {
        _tailCut = reader.ReadBoolean();
        var count = reader.ReadInt32();
        for (var i = 0; i < count; i++)
        {
            var run = new Guid(reader.ReadBytes(16));
            var text = reader.ReadBytes(Math.Clamp(reader.ReadInt32(), 0, TailCapacity));
            _tail.Add((run, text));
            _tailBytes += text.Length;
        }
    }

    private static BinaryReader? Reader(byte[] stored) =>
        stored.Length > 0 && stored[0] == Format ? new BinaryReader(new MemoryStream(stored, 1, stored.Length - 1, writable: false)) : null;

    private static byte[] Write(Action<BinaryWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Format);
            write(writer);
        }

        return stream.ToArray();
    }
}
