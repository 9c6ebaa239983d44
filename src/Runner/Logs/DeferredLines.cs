using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// The last screenful of plain lines that <see cref="TerminalProcessor"/>'s shortcut stored without drawing them on
/// the screen. Drawing waits until something needs the screen — output that is not plain lines — so a job writing
/// plain lines in many small reads does not redraw its last screenful on every read.
/// </summary>
/// <remarks>
/// While lines are deferred, the screen is as the shortcut found it: every line above the cursor stored, the cursor
/// at column 0 of a blank row. For the storing rule that state and the one after drawing the deferred lines are the
/// same (nothing held, nothing live), so only the parser has to wait for them. At most <see cref="ScreenBuffer.Rows"/>
/// lines of at most 32 KiB are kept; the buffer is made with the first line, reused, and grows only while lines are longer than ever before.
/// </remarks>
internal sealed class DeferredLines
{
    /// <summary>The buffer's size once a line comes: made then, so a job that prints nothing holds none.</summary>
    private const int FirstBytes = 16 * 1024;

    private readonly int[] _starts = new int[ScreenBuffer.Rows];
    private byte[] _bytes = [];
    private int _length;
    private int _first;
    private int _count;

    public bool IsEmpty => _count == 0;

    /// <summary>Keeps <paramref name="line"/> (its bytes as written, line end included), forgetting the oldest beyond a screenful.</summary>
    public void Add(ReadOnlySpan<byte> line)
    {
        if (_count == _starts.Length)
        {
            _first = (_first + 1) % _starts.Length;
            _count--;
        }

        if (_length + line.Length > _bytes.Length)
        {
            Compact();
            if (_length + line.Length > _bytes.Length)
            {
                Array.Resize(ref _bytes, Math.Max(_length + line.Length, Math.Max(_bytes.Length * 2, FirstBytes)));
            }
        }

        _starts[(_first + _count) % _starts.Length] = _length;
        _count++;
        line.CopyTo(_bytes.AsSpan(_length));
        _length += line.Length;
    }

    /// <summary>Hands out every kept line, oldest first, and forgets them; the span is valid until the next <see cref="Add"/>.</summary>
    public ReadOnlySpan<byte> Take()
    {
        var lines = _count == 0 ? [] : _bytes.AsSpan(_starts[_first], _length - _starts[_first]);
        _count = 0;
        _first = 0;
        _length = 0;
        return lines;
    }

    /// <summary>Moves the kept lines to the start of the buffer, over the ones forgotten.</summary>
    private void Compact()
    {
        int offset = _count == 0 ? _length : _starts[_first];
        if (offset == 0)
        {
            return;
        }

        _bytes.AsSpan(offset, _length - offset).CopyTo(_bytes);
        _length -= offset;
        for (int i = 0; i < _count; i++)
        {
            _starts[(_first + i) % _starts.Length] -= offset;
        }
    }
}
