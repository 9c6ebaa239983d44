using System.Buffers;
using System.Runtime.InteropServices;
using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// How a stored line is made and written: the rows of a logical line joined as xterm.js joins wrapped rows (with the
/// head that scrolled off before it ended), trailing spaces trimmed, empty lines held back until text follows, a line
/// longer than <see cref="MaxLineBytes"/> cut into pieces on character boundaries, and its style runs kept beside it.
/// </summary>
internal sealed partial class StoringRule
{
    private readonly List<byte> _line = new(4096);
    private readonly StyleRuns _lineRuns = new();

    // The start of the logical line that continues on row 0: rows that scrolled off before the line ended.
    private readonly List<byte> _head = [];
    private readonly StyleRuns _headRuns = new();
    private int _heldEmptyLines;
    private IBufferWriter<byte>? _output;

    /// <summary>Bytes written to <see cref="Output"/> since it was set: where the next line's style runs start.</summary>
    private int _written;

    /// <summary>Where stored text goes during a call of the processor.</summary>
    public IBufferWriter<byte>? Output
    {
        get => _output;
        set
        {
            _output = value;
            _written = 0;
        }
    }

    /// <summary>Where the style runs of the stored text go, over the bytes written to <see cref="Output"/> in this call; null: not kept.</summary>
    public StoredStyles? Styles { get; set; }

    private void AssembleLine(ScreenBuffer buffer, int first, int last)
    {
        _line.Clear();
        _lineRuns.Clear();
        AppendRows(buffer, first, last);
    }

    /// <summary>Starts <see cref="_line"/> with the head of the line that scrolled off, which it takes.</summary>
    private void TakeHead()
    {
        _line.Clear();
        _line.AddRange(_head);
        _lineRuns.Clear();
        _lineRuns.AddRange(_headRuns, 0, _head.Count, 0);
        _head.Clear();
        _headRuns.Clear();
    }

    /// <summary>
    /// Appends the rows of a logical line and trims the line's trailing spaces: every row but the last at full
    /// width, so spaces inside a wrapped line stay, as xterm.js joins wrapped rows.
    /// </summary>
    private void AppendRows(ScreenBuffer buffer, int first, int last)
    {
        for (int r = first; r <= last; r++)
        {
            // The empty last cell left where a wide character did not fit and wrapped holds no character.
            int columns = r < last && buffer[r].Cells[^1] == 0 && ScreenRow.IsWide(buffer[r + 1].Cells[0])
                ? buffer.Columns - 1
                : buffer.Columns;
            buffer[r].WriteText(_line, trim: r == last, columns, Styles is null ? null : _lineRuns);
        }

        int length = _line.Count;
        while (length > 0 && _line[length - 1] == ' ')
        {
            length--;
        }

        _line.RemoveRange(length, _line.Count - length);
        _lineRuns.Truncate(length);
    }

    /// <summary>Writes <see cref="_line"/> as one stored line (or its 32 KiB pieces); an empty one is held back.</summary>
    private void Emit()
    {
        var text = CollectionsMarshal.AsSpan(_line);
        int length = text.Length;
        while (length > 0 && text[length - 1] == ' ')
        {
            length--;
        }

        text = text[..length];
        if (text.IsEmpty)
        {
            _heldEmptyLines++;
            return;
        }

        _lineRuns.Truncate(length);
        while (text.Length > MaxLineBytes)
        {
            int piece = PieceLength(text);
            WriteLine(text[..piece], _lineRuns);
            text = text[piece..];
            _lineRuns.RemovePrefix(piece);
        }

        WriteLine(text, _lineRuns);
        _lineRuns.Clear();
    }

    /// <summary>Writes the held empty lines, then <paramref name="text"/> and its <c>\n</c>; <paramref name="runs"/> are its style runs (those past its end are left out).</summary>
    public void WriteLine(ReadOnlySpan<byte> text, StyleRuns? runs = null)
    {
        var output = Output ?? throw new InvalidOperationException("No output during this call.");
        if (text.IsEmpty)
        {
            _heldEmptyLines++;
            return;
        }

        for (; _heldEmptyLines > 0; _heldEmptyLines--)
        {
            output.Write("\n"u8);
            _written++;
        }

        if (runs is { Count: > 0 } && Styles is { } styles)
        {
            styles.Add(runs, _written, text.Length);
        }

        output.Write(text);
        output.Write("\n"u8);
        _written += text.Length + 1;
    }

    /// <summary>At most <see cref="MaxLineBytes"/>, ending on a UTF-8 character boundary where one is near.</summary>
    private static int PieceLength(ReadOnlySpan<byte> text)
    {
        int cut = MaxLineBytes;
        for (int back = 0; back < 3 && (text[cut] & 0xC0) == 0x80; back++)
        {
            cut--;
        }

        return (text[cut] & 0xC0) == 0x80 ? MaxLineBytes : cut;
    }
}
