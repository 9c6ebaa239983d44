using System.Buffers.Binary;
using System.Numerics;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Quota;

/// <summary>
/// The most repeated lines of a bucket, in memory that does not grow with the output: the Space-Saving sketch
/// (Metwally, Agrawal, El Abbadi 2005) over 64-bit hashes of lines, with <see cref="Capacity"/> counters.
/// </summary>
/// <remarks>
/// <para>
/// Guarantees: every line written more than <c>total / Capacity</c> times holds a counter; a counter's count
/// overcounts its line by at most its <c>error</c> (the count of the counter it replaced) and never undercounts.
/// With 64 counters a line that makes up 2 % of a bucket's lines is always found, which is exactly the runaway
/// <c>print</c> in a loop a quota report is for.
/// </para>
/// <para>
/// Memory: <see cref="Capacity"/> × (3 longs + <see cref="SampleBytes"/> sample bytes), about 14 KiB, allocated
/// once; adding a line allocates nothing. Two different lines with the same 64-bit hash would share a counter,
/// which at 64 live counters is a chance of about 2^-52 per line. Not thread-safe; the job's lock owns it.
/// </para>
/// </remarks>
internal sealed class RepeatedLines
{
    /// <summary>Counters kept: a few more than the 5 reported, so the top 5 of a skewed bucket are exact.</summary>
    public const int Capacity = 64;

    /// <summary>Bytes of each line kept to show it; a report is for recognising a line, not for reading it whole.</summary>
    public const int SampleBytes = 200;

    private readonly ulong[] _hashes = new ulong[Capacity];
    private readonly long[] _counts = new long[Capacity];
    private readonly long[] _errors = new long[Capacity];
    private readonly byte[] _samples = new byte[Capacity * SampleBytes];
    private readonly int[] _sampleLengths = new int[Capacity];
    private readonly Dictionary<ulong, int> _slots = new(Capacity);
    private int _used;

    /// <summary>Lines counted since the last <see cref="Clear"/>.</summary>
    public long Total { get; private set; }

    /// <summary>Counts every line of <paramref name="text"/>, <c>\n</c>-terminated or not (a trailing piece counts as a line).</summary>
    public void AddLines(ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            var end = text.IndexOf((byte)'\n');
            var line = end < 0 ? text : text[..end];
            Add(line);
            text = end < 0 ? default : text[(end + 1)..];
        }
    }

    /// <summary>Counts one line (without its <c>\n</c>).</summary>
    public void Add(ReadOnlySpan<byte> line)
    {
        Total++;
        var hash = Hash(line);
        if (_slots.TryGetValue(hash, out var slot))
        {
            _counts[slot]++;
            return;
        }

        if (_used < Capacity)
        {
            slot = _used++;
            _errors[slot] = 0;
            _counts[slot] = 1;
        }
        else
        {
            // Space-Saving: the new line takes the smallest counter over, inheriting its count as its error bound.
            slot = 0;
            for (var i = 1; i < Capacity; i++)
            {
                if (_counts[i] < _counts[slot])
                {
                    slot = i;
                }
            }

            _slots.Remove(_hashes[slot]);
            _errors[slot] = _counts[slot];
            _counts[slot]++;
        }

        _hashes[slot] = hash;
        _slots[hash] = slot;
        var sample = line[..Math.Min(line.Length, SampleBytes)];
        sample.CopyTo(_samples.AsSpan(slot * SampleBytes));
        _sampleLengths[slot] = sample.Length;
    }

    /// <summary>
    /// The <paramref name="count"/> lines surely written at least twice, by their guaranteed count (count − error),
    /// highest first. A line seen once and counted high only because it took over a counter is not "repeated": after a
    /// run of distinct lines every counter carries such an error, and showing those would bury the real repeats.
    /// </summary>
    public List<RepeatedLine> Top(int count)
    {
        var order = Enumerable.Range(0, _used)
            .Where(i => _counts[i] - _errors[i] >= 2)
            .OrderByDescending(i => _counts[i] - _errors[i])
            .ThenByDescending(i => _counts[i])
            .Take(count);
        return [.. order.Select(i => new RepeatedLine(Sample(i), _counts[i], _errors[i]))];
    }

    /// <summary>Forgets every line (a new bucket).</summary>
    public void Clear()
    {
        _slots.Clear();
        _used = 0;
        Total = 0;
    }

    private string Sample(int slot)
    {
        var bytes = _samples.AsSpan(slot * SampleBytes, _sampleLengths[slot]);

        // A sample cut at 200 bytes may end inside a character; the decoder replaces that piece, never throws.
        return Encoding.UTF8.GetString(bytes).TrimEnd('\r');
    }

    /// <summary>
    /// A 64-bit multiply-rotate hash over 8-byte words: several GB/s, so counting every stored line costs the read
    /// path little next to terminal processing. Not for adversaries (a job could collide lines on purpose, which
    /// only muddles its own report).
    /// </summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        const ulong Multiplier = 0x9E3779B97F4A7C15;
        var hash = (ulong)bytes.Length * Multiplier;
        while (bytes.Length >= 8)
        {
            hash = (BitOperations.RotateLeft(hash, 23) ^ BinaryPrimitives.ReadUInt64LittleEndian(bytes)) * Multiplier;
            bytes = bytes[8..];
        }

        ulong tail = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            tail |= (ulong)bytes[i] << (8 * i);
        }

        hash = (BitOperations.RotateLeft(hash, 23) ^ tail) * Multiplier;
        return hash ^ (hash >> 29);
    }
}
