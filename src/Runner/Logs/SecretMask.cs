using System.Buffers;
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

    // Longest first, so that a value containing another is masked whole rather than around the shorter one.
    private readonly byte[][] _needles;
    private readonly ArrayBufferWriter<byte> _first = new(4 * 1024);
    private readonly ArrayBufferWriter<byte> _second = new(4 * 1024);

    private SecretMask(byte[][] needles) => _needles = needles;

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
    /// The live region with every value replaced, and also the start of a value at the end of a line (at least
    /// <see cref="SecretRules.MinValueLength"/> bytes of it): a value being written there, whose rest has not come yet. The
    /// live region is only shown, never stored or counted, so hiding a little more there costs nothing.
    /// </summary>
    public byte[] ApplyLive(ReadOnlySpan<byte> live)
    {
        var masked = Apply(live);
        var output = new ArrayBufferWriter<byte>(masked.Length);
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
