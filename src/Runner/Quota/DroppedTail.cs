namespace LogQuota.Runner.Quota;

/// <summary>
/// The last <see cref="Capacity"/> bytes a <c>truncate</c> bucket dropped, in a ring (how many bytes and lines were
/// dropped is <see cref="DroppedCount"/>'s), so the end of a runaway (often the error that stopped it) is kept whatever it wrote before.
/// </summary>
internal sealed class DroppedTail
{
    /// <summary>64 KiB (SPEC §2 "evidence"): enough for the traceback a runaway ends with, bounded per bucket.</summary>
    public const int Capacity = 64 * 1024;

    // Made with the first dropped text: a bucket that never drops (most) holds none of it.
    private byte[] _ring = [];
    private long _written;

    /// <summary>Records dropped text.</summary>
    public void Add(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        if (_ring.Length == 0)
        {
            _ring = new byte[Capacity];
        }

        var keep = text.Length > Capacity ? text[^Capacity..] : text;
        var start = (int)((_written + (text.Length - keep.Length)) % Capacity);
        var first = Math.Min(keep.Length, Capacity - start);
        keep[..first].CopyTo(_ring.AsSpan(start));
        keep[first..].CopyTo(_ring);
        _written += text.Length;
    }

    /// <summary>
    /// The last at most <see cref="Capacity"/> bytes dropped, in order. When more was dropped, the tail starts after
    /// the first <c>\n</c> in it, so it begins with a whole line (unless it holds no <c>\n</c> at all).
    /// </summary>
    public byte[] Tail()
    {
        if (_written <= Capacity)
        {
            return _ring[..(int)_written];
        }

        var start = (int)(_written % Capacity);
        var tail = new byte[Capacity];
        _ring.AsSpan(start).CopyTo(tail);
        _ring.AsSpan(0, start).CopyTo(tail.AsSpan(Capacity - start));
        var newline = Array.IndexOf(tail, (byte)'\n');
        return newline >= 0 && newline < Capacity - 1 ? tail[(newline + 1)..] : tail;
    }

    /// <summary>Forgets everything (a new bucket).</summary>
    public void Clear()
    {
        _written = 0;
    }
}
