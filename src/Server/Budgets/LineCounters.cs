using LogQuota.Shared.Logs;

namespace LogQuota.Server.Budgets;

/// <summary>
/// The most repeated lines of a project's hour across all its jobs, in space that does not grow with the output and
/// stored between pages: the Space-Saving algorithm (Metwally, Agrawal, El Abbadi 2005) over <see cref="LineIdentity"/>
/// hashes, with <see cref="Capacity"/> counters, each remembering the run whose line it first counted.
/// </summary>
/// <remarks>
/// The runner's sketch of one job (<c>RepeatedLines</c>) keeps a TinyLFU doorkeeper in memory so a job's distinct
/// lines cost a bit test each; kept between pages in the database, that would be another 8 KiB read and written with
/// every page, so here every line takes a counter. The guarantees are Space-Saving's: a line making up more than
/// 1/<see cref="Capacity"/> of the hour's lines always holds a counter, and a count overcounts by at most its error.
/// The line text stays with the counter's first sample, so a run's lines are recognised, never read whole.
/// </remarks>
internal sealed class LineCounters
{
    /// <summary>Counters kept: more than the 5 reported, so the top 5 of a skewed hour are exact.</summary>
    public const int Capacity = 64;

    private readonly ulong[] _hashes = new ulong[Capacity];
    private readonly long[] _counts = new long[Capacity];
    private readonly long[] _errors = new long[Capacity];
    private readonly Guid[] _runs = new Guid[Capacity];
    private readonly byte[][] _samples = new byte[Capacity][];
    private int _used;

    /// <summary>True once a line was counted since this was read.</summary>
    public bool Changed { get; private set; }

    /// <summary>Counts every line of <paramref name="text"/> (a trailing piece without <c>\n</c> counts as a line), written by <paramref name="run"/>.</summary>
    public void AddLines(ReadOnlySpan<byte> text, Guid run)
    {
        while (!text.IsEmpty)
        {
            var end = text.IndexOf((byte)'\n');
            Add(end < 0 ? text : text[..end], run);
            text = end < 0 ? default : text[(end + 1)..];
        }
    }

    /// <summary>Counts one line (without its <c>\n</c>).</summary>
    public void Add(ReadOnlySpan<byte> line, Guid run)
    {
        Changed = true;
        var hash = LineIdentity.Hash(line);
        if (!SpaceSaving.Count(_hashes, _counts, _errors, ref _used, hash, sightings: 1, out var slot))
        {
            return;
        }

        _runs[slot] = run;
        _samples[slot] = LineIdentity.Sample(line).ToArray();
    }

    /// <summary>The <paramref name="count"/> lines surely written at least twice, by their guaranteed count (count − error), highest first.</summary>
    public IReadOnlyList<(string Line, long Count, long Error, Guid Run)> Top(int count) =>
    [
        .. Enumerable.Range(0, _used)
            .Where(i => _counts[i] - _errors[i] >= 2)
            .OrderByDescending(i => _counts[i] - _errors[i])
            .ThenByDescending(i => _counts[i])
            .Take(count)
            .Select(i => (LineIdentity.Text(_samples[i]), _counts[i], _errors[i], _runs[i])),
    ];

    public void Write(BinaryWriter writer)
    {
        writer.Write(_used);
        for (var i = 0; i < _used; i++)
        {
            writer.Write(_hashes[i]);
            writer.Write(_counts[i]);
            writer.Write(_errors[i]);
            writer.Write(_runs[i].ToByteArray());
            writer.Write((byte)_samples[i].Length);
            writer.Write(_samples[i]);
        }
    }

    /// <exception cref="EndOfStreamException">The stored counters are cut short.</exception>
    public void Read(BinaryReader reader)
    {
        _used = Math.Clamp(reader.ReadInt32(), 0, Capacity);
        for (var i = 0; i < _used; i++)
        {
            _hashes[i] = reader.ReadUInt64();
            _counts[i] = reader.ReadInt64();
            _errors[i] = reader.ReadInt64();
            _runs[i] = new Guid(reader.ReadBytes(16));
            _samples[i] = reader.ReadBytes(reader.ReadByte());
        }
    }
}
