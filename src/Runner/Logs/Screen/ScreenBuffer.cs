using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// A grid of <see cref="ScreenRow"/>s with a cursor, a scroll region, tab stops and a saved cursor: xterm.js's
/// <c>Buffer</c> and the parts of its <c>InputHandler</c> that edit it (src/common/InputHandler.ts), followed
/// operation by operation, including its clamping quirks. It knows nothing of escape sequences.
/// </summary>
/// <remarks>
/// The cursor column may equal <see cref="Columns"/>: the "pending wrap" state after a character was written in
/// the last column; the next character wraps first. A row that scrolls off the top of a region that starts at
/// the top of the screen goes to the scrollback, which is <see cref="ScrolledOff"/>: the storing rule takes its
/// text there. The alternate screen has no scrollback, so its rows are simply lost, as in xterm.
/// </remarks>
internal sealed partial class ScreenBuffer
{
    /// <summary>The width a job's terminal has unless its run asks for another (<c>columns</c>).</summary>
    public const int DefaultColumns = JobSpecRules.DefaultColumns;
    public const int Rows = 50;
    private const int TabWidth = 8;

    private readonly ScreenRow[] _rows = new ScreenRow[Rows];
    private readonly bool[] _tabs;
    private readonly bool _hasScrollback;

    /// <param name="hasScrollback">Rows scrolling off the top go to the scrollback (the normal screen), or are lost (the alternate one).</param>
    /// <param name="columns">The width, as the job's terminal has it.</param>
    public ScreenBuffer(bool hasScrollback, int columns = DefaultColumns)
    {
        _hasScrollback = hasScrollback;
        Columns = columns;
        _tabs = new bool[columns];
        for (int i = 0; i < Rows; i++)
        {
            _rows[i] = new ScreenRow(Columns);
        }

        ResetTabs();
        Bottom = Rows - 1;
    }

    /// <summary>Called with a row about to leave the screen into the scrollback, before it is reused.</summary>
    public Action<ScreenRow>? ScrolledOff { get; set; }

    /// <summary>The time written into <see cref="ScreenRow.ChangedAt"/> of the rows changed now.</summary>
    public long Now { get; set; }

    /// <summary>Rows pushed into the scrollback so far (xterm.js's <c>ybase</c>): the saved cursor is absolute.</summary>
    public long ScrollbackLength { get; private set; }

    /// <summary>The cursor DECSC saved for this buffer.</summary>
    public SavedCursor Saved { get; set; }

    /// <summary>The <see cref="CellStyle"/> characters are written in (SGR and OSC 8 set it).</summary>
    public ulong Pen { get; set; }

    public int X { get; set; }

    public int Y { get; set; }

    public int Top { get; private set; }

    public int Bottom { get; private set; }

    /// <summary>The screen's width in cells.</summary>
    public int Columns { get; }

    public ScreenRow this[int row] => _rows[row];

    public ScreenRow CursorRow => _rows[Y];

    /// <summary>The last row that is not blank, or -1 when the whole screen is.</summary>
    public int LastRowWithText()
    {
        for (int row = Rows - 1; row >= 0; row--)
        {
            if (!_rows[row].IsBlank)
            {
                return row;
            }
        }

        return -1;
    }

    /// <summary>Marks a row changed: it is no longer what the log holds.</summary>
    public void Changed(ScreenRow row)
    {
        row.Stored = false;
        row.ChangedAt = Now;
    }

    /// <summary>Blanks the whole grid and resets cursor, region and tabs (used when the alternate screen is entered).</summary>
    public void Clear()
    {
        foreach (var row in _rows)
        {
            if (row.Reset())
            {
                Changed(row);
            }
        }

        X = 0;
        Y = 0;
        Top = 0;
        Bottom = Rows - 1;
        ResetTabs();
    }

    public void ResetTabs()
    {
        Array.Clear(_tabs);
        for (int i = 0; i < Columns; i += TabWidth)
        {
            _tabs[i] = true;
        }
    }

    /// <summary>Keeps the cursor on the screen (and inside the region in origin mode); xterm.js's <c>_restrictCursor</c>.</summary>
    public void Restrict(bool origin, int? maxColumn = null)
    {
        X = Math.Clamp(X, 0, maxColumn ?? Columns - 1);
        Y = origin ? Math.Clamp(Y, Top, Bottom) : Math.Clamp(Y, 0, Rows - 1);
    }

    public void SetCursor(int x, int y, bool origin)
    {
        X = x;
        Y = origin ? Top + y : y;
        Restrict(origin);
    }

    public void MoveCursor(int dx, int dy, bool origin)
    {
        Restrict(origin);
        SetCursor(X + dx, Y + dy, origin);
    }

    /// <summary>CUU: stops at the top margin when the cursor is inside the region.</summary>
    public void CursorUp(int n, bool origin)
    {
        int toTop = Y - Top;
        MoveCursor(0, toTop >= 0 ? -Math.Min(toTop, n) : -n, origin);
    }

    /// <summary>CUD: stops at the bottom margin when the cursor is inside the region.</summary>
    public void CursorDown(int n, bool origin)
    {
        int toBottom = Bottom - Y;
        MoveCursor(0, toBottom >= 0 ? Math.Min(toBottom, n) : n, origin);
    }

    public void SetScrollRegion(int top, int bottom, bool origin)
    {
        // Parameters are 1-based; 0 or a missing bottom means the last row, as in xterm.js.
        if (bottom == 0 || bottom > Rows)
        {
            bottom = Rows;
        }

        top = Math.Max(top, 1);
        if (bottom > top)
        {
            Top = top - 1;
            Bottom = bottom - 1;
            SetCursor(0, 0, origin);
        }
    }

    /// <summary>DECSTR's region: the whole screen, without moving the cursor (DECSTBM homes it).</summary>
    public void ResetScrollRegion()
    {
        Top = 0;
        Bottom = Rows - 1;
    }

    public void LineFeed()
    {
        Y++;
        if (Y == Bottom + 1)
        {
            Y--;
            Scroll(continuation: false);
        }
        else if (Y >= Rows)
        {
            Y = Rows - 1;
        }
        else if (_rows[Y].Continuation)
        {
            // An explicit line feed ends the soft wrap of the row it lands on (xterm.js does the same).
            _rows[Y].Continuation = false;
            Changed(_rows[Y]);
        }

        if (X >= Columns)
        {
            X--;
        }
    }

    /// <summary>IND and NEL: like a line feed, but the cursor is first kept on the screen.</summary>
    public void Index(bool origin)
    {
        Restrict(origin);
        Y++;
        if (Y == Bottom + 1)
        {
            Y--;
            Scroll(continuation: false);
        }
        else if (Y >= Rows)
        {
            Y = Rows - 1;
        }

        Restrict(origin);
    }

    public void ReverseIndex(bool origin)
    {
        Restrict(origin);
        if (Y == Top)
        {
            ShiftDown(Top, Bottom, 1);
        }
        else
        {
            Y--;
            Restrict(origin);
        }
    }

    /// <summary>
    /// BS. With reverse wraparound (mode 45), at column 0 of a row that continues a wrapped line it goes back to the
    /// last cell of the row above and ends the wrap there, as xterm.js does (only inside the region, never into the
    /// scrollback).
    /// </summary>
    public void Backspace(bool origin, bool reverseWraparound)
    {
        if (!reverseWraparound)
        {
            Restrict(origin);
            if (X > 0)
            {
                X--;
            }

            return;
        }

        Restrict(origin, Columns);
        if (X > 0)
        {
            X--;
        }
        else if (Y > Top && Y <= Bottom && _rows[Y].Continuation)
        {
            _rows[Y].Continuation = false;
            Changed(_rows[Y]);
            Y--;
            X = Columns - 1;

            // The empty last cell left where a wide character did not fit holds no character: one more back.
            if (_rows[Y].Cells[X] == 0)
            {
                X--;
            }
        }

        Restrict(origin);
    }

    public void Tab(int count)
    {
        if (X >= Columns)
        {
            return;
        }

        while (count-- > 0)
        {
            X = NextStop(X);
        }
    }

    public void BackTab(int count)
    {
        if (X >= Columns)
        {
            return;
        }

        while (count-- > 0)
        {
            X = PreviousStop(X);
        }
    }

    public void SetTab() => _tabs[Math.Min(X, Columns - 1)] = true;

    public void ClearTab(int mode)
    {
        if (mode == 0)
        {
            _tabs[Math.Min(X, Columns - 1)] = false;
        }
        else if (mode == 3)
        {
            Array.Clear(_tabs);
        }
    }

    private int NextStop(int x)
    {
        while (++x < Columns && !_tabs[x])
        {
        }

        return Math.Min(x, Columns - 1);
    }

    private int PreviousStop(int x)
    {
        while (--x > 0 && !_tabs[x])
        {
        }

        return Math.Clamp(x, 0, Columns - 1);
    }

    /// <summary>
    /// Scrolls the region up one row. With the region at the top of the screen, the top row goes to the
    /// scrollback (the callback takes its text) and the rows below the region stay where they are, as in xterm.js.
    /// </summary>
    public void Scroll(bool continuation)
    {
        var leaving = _rows[Top];
        if (Top == 0 && _hasScrollback)
        {
            ScrolledOff?.Invoke(leaving);
            ScrollbackLength++;
        }

        Array.Copy(_rows, Top + 1, _rows, Top, Bottom - Top);
        leaving.Reset();
        leaving.Continuation = continuation;
        Changed(leaving);
        _rows[Bottom] = leaving;
    }

    // Rows moved by the two shifts below keep their flags: their text is the same, only its place changed, so a
    // row already stored is not stored again because a program inserted or deleted lines above it.

    /// <summary>Moves rows <paramref name="from"/>..<paramref name="to"/> up by <paramref name="count"/>, blank rows entering at the bottom; the top ones are lost.</summary>
    public void ShiftUp(int from, int to, int count)
    {
        count = Math.Min(count, to - from + 1);
        for (int n = 0; n < count; n++)
        {
            var lost = _rows[from];
            Array.Copy(_rows, from + 1, _rows, from, to - from);
            lost.Reset();
            Changed(lost);
            _rows[to] = lost;
        }
    }

    /// <summary>Moves rows <paramref name="from"/>..<paramref name="to"/> down by <paramref name="count"/>, blank rows entering at the top; the bottom ones are lost.</summary>
    public void ShiftDown(int from, int to, int count)
    {
        count = Math.Min(count, to - from + 1);
        for (int n = 0; n < count; n++)
        {
            var lost = _rows[to];
            Array.Copy(_rows, from, _rows, from + 1, to - from);
            lost.Reset();
            Changed(lost);
            _rows[from] = lost;
        }
    }
}
