namespace LogQuota.Runner.Logs.Screen;

/// <summary>Writing and erasing cells, and inserting and deleting them and whole rows (xterm.js's <c>BufferLine</c> edits).</summary>
internal sealed partial class ScreenBuffer
{
    /// <summary>
    /// Writes one character of width 1 or 2 at the cursor, wrapping first when it does not fit (autowrap on) or
    /// overwriting the last column (autowrap off; a wide character that does not fit is dropped there).
    /// </summary>
    public void Print(ulong cell, int width, bool autoWrap, bool insert)
    {
        var row = _rows[Y];
        if (X > 0 && X < Columns && row.Cells[X] == ScreenRow.WideTail && IsWide(row.Cells[X - 1]))
        {
            // The cursor stands on the second half of a wide character: writing here destroys it.
            SetCell(row, X - 1, 0);
        }

        if (X + width > Columns)
        {
            if (autoWrap)
            {
                var oldRow = row;
                int oldColumn = X;
                X = 0;
                Y++;
                if (Y == Bottom + 1)
                {
                    Y--;
                    Scroll(continuation: true);
                }
                else
                {
                    if (Y >= Rows)
                    {
                        Y = Rows - 1;
                    }

                    if (!_rows[Y].Continuation)
                    {
                        _rows[Y].Continuation = true;
                        Changed(_rows[Y]);
                    }
                }

                row = _rows[Y];
                for (int i = oldColumn; i < Columns; i++)
                {
                    SetCell(oldRow, i, 0);
                }
            }
            else
            {
                X = Columns - 1;
                if (width == 2)
                {
                    return;
                }
            }
        }

        if (insert)
        {
            InsertCells(row, X, width);
        }

        SetCell(row, X++, cell, Pen);
        if (width == 2)
        {
            SetCell(row, X++, ScreenRow.WideTail, Pen);
        }
    }

    /// <summary>
    /// Writes a run of ASCII characters that fits before the last column, with autowrap and insert mode off the
    /// table: the common case of plain text, one compare and one store per character.
    /// </summary>
    public void PrintAscii(ReadOnlySpan<byte> text)
    {
        var row = _rows[Y];
        if (X > 0 && row.Cells[X] == ScreenRow.WideTail && IsWide(row.Cells[X - 1]))
        {
            SetCell(row, X - 1, 0);
        }

        var cells = row.Cells.AsSpan(X, text.Length);
        bool changed = false;
        for (int i = 0; i < text.Length; i++)
        {
            ulong value = text[i];
            changed |= cells[i] != value;
            cells[i] = value;
        }

        changed |= row.SetStyle(X, text.Length, Pen);
        X += text.Length;
        row.Extend(X);
        if (changed)
        {
            Changed(row);
        }
    }

    /// <summary>Joins a combining mark to the character before the cursor (both halves of a wide one count).</summary>
    public void PrintMark(int mark, bool joinsPreceding, bool autoWrap, bool insert)
    {
        if (!joinsPreceding || X == 0)
        {
            // xterm.js writes a mark with nothing to join as a cell of its own, without wrapping first (its width is
            // 0), so in the pending-wrap column there is no cell for it and it is lost.
            if (X < Columns)
            {
                Print((ulong)mark, 1, autoWrap, insert);
            }

            return;
        }

        var row = _rows[Y];
        int column = Math.Min(X, Columns) - 1;
        if (row.Cells[column] == ScreenRow.WideTail && column > 0)
        {
            column--;
        }

        SetCell(row, column, ScreenRow.Join(row.Cells[column], mark), row.Styles?[column] ?? 0);
    }

    public void EraseInLine(int mode, bool origin)
    {
        Restrict(origin, Columns);
        switch (mode)
        {
            case 0:
                EraseCells(Y, X, Columns, clearContinuation: X == 0);
                break;
            case 1:
                EraseCells(Y, 0, X + 1, clearContinuation: false);
                break;
            case 2:
                EraseCells(Y, 0, Columns, clearContinuation: true);
                break;
        }
    }

    public void EraseInDisplay(int mode, bool origin)
    {
        Restrict(origin, Columns);
        switch (mode)
        {
            case 0:
                EraseCells(Y, X, Columns, clearContinuation: X == 0);
                for (int y = Y + 1; y < Rows; y++)
                {
                    ResetRow(_rows[y]);
                }

                break;
            case 1:
                EraseCells(Y, 0, X + 1, clearContinuation: true);
                if (X + 1 >= Columns && Y + 1 < Rows && _rows[Y + 1].Continuation)
                {
                    _rows[Y + 1].Continuation = false;
                    Changed(_rows[Y + 1]);
                }

                for (int y = 0; y < Y; y++)
                {
                    ResetRow(_rows[y]);
                }

                break;
            case 2:
                foreach (var row in _rows)
                {
                    ResetRow(row);
                }

                break;

            // 3 clears xterm's scrollback: what reached the log stays there (docs/architecture.md: exceptions).
        }
    }

    public void EraseCharacters(int count, bool origin)
    {
        Restrict(origin);
        EraseCells(Y, X, Math.Min(Columns, X + count), clearContinuation: false);
    }

    public void InsertCharacters(int count, bool origin)
    {
        Restrict(origin);
        InsertCells(_rows[Y], X, count);
    }

    public void DeleteCharacters(int count, bool origin)
    {
        Restrict(origin);
        var row = _rows[Y];
        var cells = row.Cells.AsSpan();
        if (!cells[X..].ContainsAnyExcept(0UL))
        {
            return;
        }

        count = Math.Min(count, Columns - X);
        cells[(X + count)..].CopyTo(cells[X..]);
        cells[(Columns - count)..].Clear();
        if (row.Styles is { } styles)
        {
            styles.AsSpan((X + count)..).CopyTo(styles.AsSpan(X));
            styles.AsSpan(Columns - count).Clear();
        }

        // As xterm.js: the wide character left of the cursor lost its tail, and a tail shifted under the cursor lost its head.
        if (X > 0 && IsWide(cells[X - 1]))
        {
            cells[X - 1] = 0;
        }

        if (cells[X] == ScreenRow.WideTail)
        {
            cells[X] = 0;
        }

        Changed(row);
    }

    public void InsertLines(int count, bool origin)
    {
        Restrict(origin);
        if (Y < Top || Y > Bottom)
        {
            return;
        }

        ShiftDown(Y, Bottom, count);
        X = 0;
    }

    public void DeleteLines(int count, bool origin)
    {
        Restrict(origin);
        if (Y < Top || Y > Bottom)
        {
            return;
        }

        ShiftUp(Y, Bottom, count);
        X = 0;
    }

    private void InsertCells(ScreenRow row, int x, int count)
    {
        var cells = row.Cells.AsSpan();
        if (!cells[Math.Max(0, x - 1)..].ContainsAnyExcept(0UL))
        {
            return;
        }

        if (x > 0 && IsWide(cells[x - 1]) && cells[x] == ScreenRow.WideTail)
        {
            cells[x - 1] = 0;
        }

        count = Math.Min(count, Columns - x);
        row.Extend(row.Extent + count);
        cells[x..(Columns - count)].CopyTo(cells[(x + count)..]);
        cells.Slice(x, count).Clear();
        if (row.Styles is { } styles)
        {
            styles.AsSpan(x..(Columns - count)).CopyTo(styles.AsSpan(x + count));
            styles.AsSpan(x, count).Clear();
        }

        if (IsWide(cells[Columns - 1]))
        {
            cells[Columns - 1] = 0;
        }

        Changed(row);
    }

    private void EraseCells(int y, int start, int end, bool clearContinuation)
    {
        var row = _rows[y];
        var cells = row.Cells.AsSpan();
        end = Math.Min(end, Columns);
        if (start > 0 && start < Columns && IsWide(cells[start - 1]))
        {
            SetCell(row, start - 1, 0);
        }

        if (end < Columns && IsWide(cells[end - 1]))
        {
            SetCell(row, end, 0);
        }

        if (start < end && cells[start..end].ContainsAnyExcept(0UL))
        {
            cells[start..end].Clear();
            Changed(row);
        }

        if (start < end)
        {
            row.Styles?.AsSpan(start..end).Clear();
        }

        if (clearContinuation && row.Continuation)
        {
            row.Continuation = false;
            Changed(row);
        }
    }

    /// <summary>DECALN: the cursor home, and every row from there down filled with <c>E</c>, as xterm.js does.</summary>
    public void AlignmentPattern(bool origin)
    {
        SetCursor(0, 0, origin);
        for (int y = Y; y < Rows; y++)
        {
            var row = _rows[y];
            if (row.Continuation)
            {
                row.Continuation = false;
                Changed(row);
            }

            for (int x = 0; x < Columns; x++)
            {
                SetCell(row, x, 'E');
            }
        }

        SetCursor(0, 0, origin);
    }

    private void ResetRow(ScreenRow row)
    {
        if (row.Reset())
        {
            Changed(row);
        }
    }

    private void SetCell(ScreenRow row, int x, ulong value, ulong style = 0)
    {
        bool restyled = row.SetStyle(x, 1, style);
        if (row.Cells[x] != value || restyled)
        {
            row.Cells[x] = value;
            row.Extend(x + 1);
            Changed(row);
        }
    }

    private static bool IsWide(ulong cell) => ScreenRow.IsWide(cell);
}
