using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Logs;

/// <summary>
/// Replaces every occurrence of a job's secret values with <c>***</c> in the text the terminal processor lets go of
/// (stored lines) and in the live region, before anything counts, stores or shows it (SPEC §10).
/// </summary>
/// <remarks>
/// <para>
/// It works on the screen's text, not on raw reads: a value split across two reads, drawn inside a progress bar
/// redrawn a thousand times, or soft-wrapped over two screen rows is whole again in the logical line the screen
/// stores, and escape sequences between its characters are gone. Each line of a multi-line value is masked on its own,
/// since the screen stores it as several lines, each of which may leave in a different offer.
/// </para>
/// <para>
/// Known limits, documented in docs/teams.md: a logical line past 32 KiB is stored in pieces, and a value cut by a
/// piece boundary is not whole in either piece; a value whose first part was stored (30 s without change, or scrolled
/// off) before the rest was written is not whole in any stored line.
/// </para>
/// </remarks>
internal sealed class SecretMask
{
    /// <summary>What each occurrence becomes; it costs its own 3 bytes against the quota, whatever the value's length.</summary>
    public static ReadOnlySpan<byte> Replacement => "***"u8;

    /// <summary>Bytes of a value that count as a fragment of it, where the screen may show one (<see cref="ApplyToScreen"/>).</summary>
    public const int FragmentLength = 8;

    // Longest first, so that a value containing another is masked whole rather than around the shorter one.
    private readonly byte[][] _needles;

    // Every run of FragmentLength bytes of every value, as a number.
    private readonly HashSet<ulong> _fragments = [];
    private readonly ArrayBufferWriter<byte> _first = new(4 * 1024);
    private readonly ArrayBufferWriter<byte> _second = new(4 * 1024);
    private readonly ArrayBufferWriter<byte> _screen = new(4 * 1024);

    private SecretMask(byte[][] needles)
    {
        _needles = needles;
        foreach (var needle in needles)
        {
            for (var at = 0; at + FragmentLength <= needle.Length; at++)
            {
                _fragments.Add(BinaryPrimitives.ReadUInt64LittleEndian(needle.AsSpan(at)));
            }
        }
    }

    /// <summary>A mask for <paramref name="values"/>, or null when there is nothing to mask.</summary>
    public static SecretMask? For(IEnumerable<string>? values)
    {
        var needles = (values ?? [])
            .SelectMany(SecretRules.MaskedLines)
            .Where(line => line.Length > 0)
            .Distinct(StringComparer.Ordinal)
            .Select(Encoding.UTF8.GetBytes)
            .OrderByDescending(bytes => bytes.Length)
            .ToArray();
        return needles.Length == 0 ? null : new SecretMask(needles);
    }

    /// <summary>
    /// <paramref name="text"/> with every value replaced: the text itself when it holds none, else a span into this
    /// mask's buffer, valid until the next call.
    /// </summary>
    public ReadOnlySpan<byte> Apply(ReadOnlySpan<byte> text)
    {
        var current = text;
        var useFirst = true;
        foreach (var needle in _needles)
        {
            var at = current.IndexOf(needle);
            if (at < 0)
            {
                continue;
            }

            // Reads from one buffer while writing the other: current may be the buffer the previous needle filled.
            var target = useFirst ? _first : _second;
            useFirst = !useFirst;
            target.ResetWrittenCount();
            while (at >= 0)
            {
                target.Write(current[..at]);
                target.Write(Replacement);
                current = current[(at + needle.Length)..];
                at = current.IndexOf(needle);
            }

            target.Write(current);
            current = target.WrittenSpan;
        }

        return current;
    }

    /// <summary>
    /// <see cref="Apply"/>, and also every run of at least <see cref="FragmentLength"/> bytes that is part of a value, for
    /// text taken from the screen as it stands (the live region, and lines stored when the job ends or after 30 s
    /// without change). There a redraw may have left a mix: <c>\r10 hf_a</c> over <c>9 hf_abcdef…</c> shows
    /// <c>10 hf_acdef…</c>, most of the value and no whole occurrence. Lines a job finished with a line feed are
    /// masked by <see cref="Apply"/> alone, so ordinary words inside a value (a password's) stay readable there.
    /// </summary>
    public ReadOnlySpan<byte> ApplyToScreen(ReadOnlySpan<byte> text)
    {
        var masked = Apply(text);
        if (_fragments.Count == 0 || masked.Length < FragmentLength)
        {
            return masked;
        }

        var coveredUntil = -1;
        var covered = new bool[masked.Length];
        for (var at = 0; at + FragmentLength <= masked.Length; at++)
        {
            if (_fragments.Contains(BinaryPrimitives.ReadUInt64LittleEndian(masked[at..])))
            {
                covered.AsSpan(at, FragmentLength).Fill(true);
                coveredUntil = at + FragmentLength;
            }
        }

        if (coveredUntil < 0)
        {
            return masked;
        }

        _screen.ResetWrittenCount();
        for (var at = 0; at < masked.Length;)
        {
            var start = at;
            var inFragment = covered[at];
            while (at < masked.Length && covered[at] == inFragment)
            {
                at++;
            }

            _screen.Write(inFragment ? Replacement : masked[start..at]);
        }

        return _screen.WrittenSpan;
    }

    /// <summary>
    /// The live region as <see cref="ApplyToScreen"/> masks it, and also the start of a value at the end of a line (at
    /// least <see cref="SecretRules.MinValueLength"/> bytes of it): a value being written there, whose rest has not come
    /// yet. The live region is only shown, never stored or counted, so hiding a little more there costs nothing.
    /// </summary>
    public byte[] ApplyLive(ReadOnlySpan<byte> live)
    {
        var masked = ApplyToScreen(live);
        var output = new ArrayBufferWriter<byte>(masked.Length + 8);
        while (!masked.IsEmpty)
        {
            var end = masked.IndexOf((byte)'\n');
            var line = end < 0 ? masked : masked[..end];
            var started = StartedValue(line);
            output.Write(line[..(line.Length - started)]);
            if (started > 0)
            {
                output.Write(Replacement);
            }

            if (end < 0)
            {
                break;
            }

            output.Write("\n"u8);
            masked = masked[(end + 1)..];
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>The length of the longest end of <paramref name="line"/> that begins a value, if at least the minimum.</summary>
    private int StartedValue(ReadOnlySpan<byte> line)
    {
        var longest = 0;
        foreach (var needle in _needles)
        {
            // Candidate starts are where the value's first byte is, in the last (value length - 1) bytes of the line.
            var from = Math.Max(0, line.Length - (needle.Length - 1));
            var last = line.Length - SecretRules.MinValueLength;
            while (from <= last && line.Length - from > longest)
            {
                var found = line[from..(last + 1)].IndexOf(needle[0]);
                if (found < 0)
                {
                    break;
                }

                var start = from + found;
                if (line.Length - start > longest && needle.AsSpan().StartsWith(line[start..]))
                {
                    longest = line.Length - start;
                    break;
                }

                from = start + 1;
            }
        }

        return longest;
    }
}
