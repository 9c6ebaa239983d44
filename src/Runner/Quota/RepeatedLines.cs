using LogQuota.Shared.Contracts;
using LogQuota.Shared.Logs;

namespace LogQuota.Runner.Quota;

/// <summary>
/// The most repeated lines of a bucket, in memory that does not grow with the output: the Space-Saving sketch
/// (Metwally, Agrawal, El Abbadi 2005) over 64-bit hashes of lines, with <see cref="Capacity"/> counters.
/// </summary>
/// <remarks>
/// <para>
/// Guarantees: every line written more than <c>total / Capacity</c> times holds a counter; a counter's count
/// overcounts its line by at most its <c>error</c> (the count of the counter it replaced, plus 1 for the doorkeeper) and
/// never undercounts, but for a doorkeeper reset between a line's first and second sighting, which loses that first one.
/// With 64 counters a line that makes up 2 % of a bucket's lines is always found, which is exactly the runaway
/// <c>print</c> in a loop a quota report is for.
/// </para>
/// <para>
/// Memory: <see cref="Capacity"/> × (3 longs + <see cref="SampleBytes"/> sample bytes), about 14 KiB, allocated
/// once; adding a line allocates nothing. Speed: a line costs a hash, a vectorized search of the 64 hashes and, for a
/// line not held, a vectorized search for the smallest count; no dictionary, which in the read path cost a quarter of
/// the throughput on logs of distinct lines (bench/QuotaPolicy.Bench). Two different lines with the same 64-bit hash would share a counter,
/// which at 64 live counters is a chance of about 2^-52 per line. Not thread-safe; the job's lock owns it.
/// </para>
/// </remarks>
internal sealed class RepeatedLines
{
    /// <summary>Counters kept: a few more than the 5 reported, so the top 5 of a skewed bucket are exact.</summary>
    public const int Capacity = 64;

    /// <summary>Bytes of each line kept to show it (<see cref="LineIdentity.SampleBytes"/>).</summary>
    public const int SampleBytes = LineIdentity.SampleBytes;

    /// <summary>
    /// Bits of the doorkeeper (TinyLFU's: Einziger, Friedman, Manes 2017): a line enters the counters only the second
    /// time it is seen, so a log of distinct lines (timestamps, step numbers) costs a bit test per line instead of a
    /// counter take-over each. 64 Ki bits (8 KiB), cleared when half of them were set, so it never fills up.
    /// </summary>
    private const int DoorkeeperBits = 64 * 1024;

    private readonly ulong[] _hashes = new ulong[Capacity];
    private readonly long[] _counts = new long[Capacity];
    private readonly long[] _errors = new long[Capacity];
    private readonly byte[] _samples = new byte[Capacity * SampleBytes];
    private readonly int[] _sampleLengths = new int[Capacity];
    private readonly ulong[] _seen = new ulong[DoorkeeperBits / 64];
    private int _used;
    private int _seenSet;

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
        var hash = LineIdentity.Hash(line);

        // First sight (as far as the doorkeeper knows): remembered, not counted, and no counter is searched, which is
        // what keeps a log of distinct lines cheap. A line that holds a counter always has its bit set (a reset sets
        // them again), so it is never missed.
        if (!Seen(hash))
        {
            return;
        }

        // Counted as two sightings, this one and the one the doorkeeper remembered, which may have been another
        // line's bit (a false positive): hence an error of 1 more.
        if (!SpaceSaving.Count(_hashes, _counts, _errors, ref _used, hash, sightings: 2, out var slot))
        {
            return;
        }

        var sample = LineIdentity.Sample(line);
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
        _used = 0;
        Array.Clear(_seen);
        _seenSet = 0;
        Total = 0;
    }

    /// <summary>
    /// True when the doorkeeper has seen <paramref name="hash"/> before; otherwise remembers it. Cleared when half its
    /// bits are set (so it never fills up), keeping the bits of the lines that hold counters.
    /// </summary>
    private bool Seen(ulong hash)
    {
        var bit = (int)(hash >> 48) & (DoorkeeperBits - 1);
        ref var word = ref _seen[bit >> 6];
        var mask = 1UL << (bit & 63);
        if ((word & mask) != 0)
        {
            return true;
        }

        word |= mask;
        if (++_seenSet >= DoorkeeperBits / 2)
        {
            Array.Clear(_seen);
            _seenSet = 0;
            foreach (var held in _hashes.AsSpan(0, _used))
            {
                var heldBit = (int)(held >> 48) & (DoorkeeperBits - 1);
                _seen[heldBit >> 6] |= 1UL << (heldBit & 63);
                _seenSet++;
            }
        }

        return false;
    }

    private string Sample(int slot) => LineIdentity.Text(_samples.AsSpan(slot * SampleBytes, _sampleLengths[slot]));
}
