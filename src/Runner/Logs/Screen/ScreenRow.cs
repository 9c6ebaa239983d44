using System.Runtime.InteropServices;
using System.Text;

namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// One row of the virtual screen: its cells, whether it continues the row above (a soft wrap), and what the
/// storing rule needs to know about it (stored or not, when it last changed).
/// </summary>
/// <remarks>
/// A cell is a <see cref="ulong"/>: bits 0–21 hold the base (0 = blank, a code point, <see cref="InvalidByteBase"/>
/// + a byte that is not valid UTF-8, or <see cref="WideTail"/> for the second half of a wide character), and
/// bits 22–42 and 43–63 hold up to two combining marks joined to it. Two marks cover accents and variation
/// selectors; a third one is dropped.
/// </remarks>
internal sealed class ScreenRow
{
    public const ulong WideTail = 0x3FFFFF;
    public const int InvalidByteBase = 0x110000;
    private const int MarkShift1 = 22;
    private const int MarkShift2 = 43;
    private const ulong BaseMask = 0x3FFFFF;
    private const ulong MarkMask = 0x1FFFFF;

    private readonly int _columns;
    private ulong[]? _cells;

    public ScreenRow(int columns)
    {
        _columns = columns;
    }

    /// <summary>
    /// The row's cells, allocated when first asked for: a job that prints a few lines, or none, holds a few rows of
    /// 1.6 KB, not all 50 of its screen (bench/RESULTS.md).
    /// </summary>
    public ulong[] Cells => _cells ??= new ulong[_columns];

    /// <summary>
    /// Each cell's <see cref="CellStyle"/>, or null while every cell of the row has the default style: allocated with
    /// the first styled cell, so plain text never pays for it.
    /// </summary>
    public ulong[]? Styles { get; private set; }

    /// <summary>Sets the style of cells <paramref name="start"/>..<paramref name="start"/>+<paramref name="count"/>; true when one changed.</summary>
    public bool SetStyle(int start, int count, ulong style)
    {
        if (Styles is null)
        {
            if (style == 0)
            {
                return false;
            }

            Styles = new ulong[_columns];
        }

        var span = Styles.AsSpan(start, count);
        if (!span.ContainsAnyExcept(style))
        {
            return false;
        }

        span.Fill(style);
        return true;
    }

    /// <summary>
    /// Every cell from here on is blank: an upper bound kept by every write, so that trimming, blanking and
    /// reading a row touch only the cells a program wrote, not all 200.
    /// </summary>
    public int Extent { get; private set; }

    /// <summary>Records that cells up to <paramref name="end"/> (exclusive) may hold something.</summary>
    public void Extend(int end)
    {
        if (end > Extent)
        {
            Extent = Math.Min(end, _columns);
        }
    }

    /// <summary>True when this row is the soft-wrapped continuation of the row above (xterm's <c>isWrapped</c>).</summary>
    public bool Continuation { get; set; }

    /// <summary>True while the row's current text is in the stored log.</summary>
    public bool Stored { get; set; }

    /// <summary><see cref="TimeProvider.GetTimestamp"/> of the row's last change.</summary>
    public long ChangedAt { get; set; }

    /// <summary>Blanks every cell and clears the continuation flag; true when anything changed.</summary>
    public bool Reset()
    {
        var written = _cells is null ? [] : _cells.AsSpan(0, Extent);
        bool changed = Continuation || written.ContainsAnyExcept(0UL);
        written.Clear();
        Styles?.AsSpan(0, Extent).Clear();
        Extent = 0;
        Continuation = false;
        return changed;
    }

    public static ulong Base(ulong cell) => cell & BaseMask;

    /// <summary>True when the cell holds the first half of a wide character.</summary>
    public static bool IsWide(ulong cell)
    {
        ulong b = cell & BaseMask;
        return b >= 0x1100 && b < InvalidByteBase && UnicodeWidth.Of((int)b) == 2;
    }

    /// <summary>Joins a combining mark to a cell; a cell that already holds two keeps them.</summary>
    public static ulong Join(ulong cell, int mark)
    {
        if (((cell >> MarkShift1) & MarkMask) == 0)
        {
            return cell | ((ulong)mark << MarkShift1);
        }

        return ((cell >> MarkShift2) & MarkMask) == 0 ? cell | ((ulong)mark << MarkShift2) : cell;
    }

    /// <summary>True when the row shows nothing.</summary>
    public bool IsBlank => _cells is null || !_cells.AsSpan(0, Extent).ContainsAnyExcept(0UL);

    /// <summary>
    /// Appends the row's text as UTF-8, as xterm.js's <c>translateToString</c> renders it: a blank cell is a
    /// space, the tail of a wide character adds nothing, an orphaned tail is a space. With
    /// <paramref name="trim"/>, the blank cells after the last written one are left out (the caller trims the
    /// trailing spaces of a logical line as a whole).
    /// </summary>
    /// <remarks>With <paramref name="runs"/>, the styled cells' bytes are added to it as runs over <paramref name="output"/>.</remarks>
    public void WriteText(List<byte> output, bool trim, int columns = int.MaxValue, StyleRuns? runs = null)
    {
        ReadOnlySpan<ulong> cells = Cells.AsSpan(0, Math.Min(columns, Cells.Length));
        int end = trim ? TrimmedLength(cells[..Math.Min(Extent, cells.Length)]) : cells.Length;
        if (runs is not null && Styles is { } styles && styles.AsSpan(0, Math.Min(Extent, end)).ContainsAnyExcept(0UL))
        {
            // A styled row, the rare case, goes cell by cell.
            for (int i = 0; i < end; i++)
            {
                int at = output.Count;
                WriteCells(output, cells, i, i + 1, afterWide: i > 0 && IsWide(cells[i - 1]));
                runs.Add(at, output.Count - at, styles[i]);
            }

            return;
        }

        WriteCells(output, cells, 0, end, afterWide: false);
    }

    private static void WriteCells(List<byte> output, ReadOnlySpan<ulong> cells, int start, int end, bool afterWide)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = start; i < end; i++)
        {
            ulong cell = cells[i];
            ulong b = cell & BaseMask;
            if (b == WideTail)
            {
                if (!afterWide)
                {
                    output.Add((byte)' ');
                }

                afterWide = false;
                continue;
            }

            afterWide = false;
            if (b == 0)
            {
                output.Add((byte)' ');
                continue;
            }

            if (cell is > 0 and < 0x80)
            {
                // A run of ASCII cells without marks, the common case, is copied in one go.
                int run = 1;
                while (i + run < end && cells[i + run] is > 0 and < 0x80)
                {
                    run++;
                }

                int at = output.Count;
                CollectionsMarshal.SetCount(output, at + run);
                var destination = CollectionsMarshal.AsSpan(output).Slice(at, run);
                var source = cells.Slice(i, run);
                for (int k = 0; k < destination.Length; k++)
                {
                    destination[k] = (byte)source[k];
                }

                i += run - 1;
                continue;
            }

            if (b < 0x80)
            {
                output.Add((byte)b);
            }
            else if (b >= InvalidByteBase)
            {
                output.Add((byte)(b - InvalidByteBase));
            }
            else
            {
                AddRune(output, (int)b, utf8);
                afterWide = UnicodeWidth.Of((int)b) == 2;
            }

            ulong mark1 = (cell >> MarkShift1) & MarkMask;
            if (mark1 != 0)
            {
                AddRune(output, (int)mark1, utf8);
                ulong mark2 = (cell >> MarkShift2) & MarkMask;
                if (mark2 != 0)
                {
                    AddRune(output, (int)mark2, utf8);
                }
            }
        }
    }

    private static void AddRune(List<byte> output, int codePoint, Span<byte> utf8)
    {
        int length = new Rune(codePoint).EncodeToUtf8(utf8);
        for (int i = 0; i < length; i++)
        {
            output.Add(utf8[i]);
        }
    }

    /// <summary>
    /// xterm.js's trimmed length: up to the last cell with content, a written space included (callers trim the spaces
    /// of the whole logical line), except that a combining mark with nothing to join sits in a cell of width 0,
    /// which that length leaves out when it is last.
    /// </summary>
    private static int TrimmedLength(ReadOnlySpan<ulong> cells)
    {
        int last = cells.LastIndexOfAnyExcept(0UL, WideTail);
        ulong b = last < 0 ? 0 : cells[last] & BaseMask;
        return b is >= 0x300 and < InvalidByteBase && UnicodeWidth.Of((int)b) == 0 ? last : last + 1;
    }
}
