using System.Buffers;
using System.Runtime.InteropServices;
using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// The storing rule (SPEC §2 "When a line is stored"): which lines of the virtual screen are stored, when, and
/// which are still the job's live region. The log is written top to bottom, one logical line at a time.
/// </summary>
/// <remarks>
/// <para>
/// A line is stored when it scrolls off the screen into the scrollback (it can no longer change), when the
/// job ends, when it has not changed for <see cref="StaleAfter"/>, or as soon as it is out of the program's reach:
/// more than <c>reach</c> rows above the cursor. The rule is applied at every line feed, cursor move and change of
/// the cursor's visibility, never at the end of a read, so the stored log depends on the bytes alone and not on how
/// they were cut into reads (which depends on machine load).
/// </para>
/// <para>
/// A program that never redraws has a reach of 0, so each line is stored as its <c>\n</c> arrives, a first frame of
/// a display too. A program that has redrawn — moved the cursor to another row, or written text after a carriage
/// return, as every progress bar does — has a reach measured by where its cursor has been: the furthest it went
/// above the lowest row it reached, and the whole block of rows it walked up over one row at a time (the
/// <c>ESC[1A</c> loops of tqdm, log-update, Jest and <c>tput cuu1</c>, and docker's layer lines, each added by a line
/// feed and an <c>ESC[1A</c>), plus <see cref="ReachMargin"/> (a display grows by a row before it first moves up over
/// it). A program that hides the cursor, as live displays do, holds the whole screen. The reach falls back to 0 after
/// a screenful of line feeds without any redraw.
/// </para>
/// <para>
/// A stored line that the program changes later is live again and is stored again when it leaves: that is the
/// only way a line reaches the log twice, and it happens only to lines changed after the rule let them go.
/// Empty lines are held back until a line with text follows, so trailing empty lines are never stored.
/// </para>
/// </remarks>
internal sealed partial class StoringRule(ScreenBuffer screen) : IRedrawListener
{
    /// <summary>A logical line longer than this is stored in pieces of at most this many bytes (SPEC §2: 32 KiB).</summary>
    public const int MaxLineBytes = 32 * 1024;

    /// <summary>A held line that has not changed for this long is stored (SPEC §2).</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(30);

    private const int Rows = ScreenBuffer.Rows;

    /// <summary>While true, rows scrolling off are not stored: the processor replays lines it already stored.</summary>
    public bool Replaying { get; set; }

    public bool HasHead => _head.Count > 0;

    /// <summary>Called by the screen with the top row as it scrolls into the scrollback.</summary>
    public void ScrolledOff(ScreenRow row)
    {
        if (Replaying)
        {
            return;
        }

        if (screen[1].Continuation)
        {
            // The logical line goes on below: keep its start until it ends, in pieces once it is long.
            if (!row.Stored)
            {
                row.WriteText(_head, trim: false, row.Cells[^1] == 0 && ScreenRow.IsWide(screen[1].Cells[0]) ? screen.Columns - 1 : screen.Columns, _headRuns);
                while (_head.Count > MaxLineBytes)
                {
                    int piece = PieceLength(CollectionsMarshal.AsSpan(_head));
                    WriteLine(CollectionsMarshal.AsSpan(_head)[..piece], _headRuns);
                    _head.RemoveRange(0, piece);
                    _headRuns.RemovePrefix(piece);
                }
            }

            return;
        }

        if (!row.Stored || _head.Count > 0)
        {
            TakeHead();
            row.WriteText(_line, trim: true, runs: _lineRuns);
            Emit();
        }
    }

    /// <summary>Stores the lines out of the program's reach (outside a call of the processor, or while replaying, nothing).</summary>
    public void StoreOutOfReach()
    {
        if (Output is null || Replaying)
        {
            return;
        }

        // Blank rows wait for text below them: a program may come back to write on a row it left empty (apt writes
        // its first step over the blank line it made room with), and trailing empty lines are never stored anyway.
        int last = screen.Y - Reach() - 1;
        while (last >= 0 && screen[last].IsBlank)
        {
            last--;
        }

        // This runs at every line feed and move: most of the time every row in reach of it is stored already.
        int first = 0;
        while (first <= last && screen[first].Stored)
        {
            first++;
        }

        if (first <= last)
        {
            StoreLines(last, staleBefore: null);
        }
    }

    /// <summary>Stores every line above the cursor, blank ones too: a line with text is about to follow below them.</summary>
    public void StoreAboveCursor() => StoreLines(screen.Y - 1, staleBefore: null);

    /// <summary>Stores, from the top, the held lines that have not changed since <paramref name="now"/> − <see cref="StaleAfter"/>.</summary>
    public void StoreStale(long now, TimeProvider time) =>
        StoreLines(screen.LastRowWithText(), staleBefore: (now, time));

    /// <summary>The job has ended: stores every held line; trailing empty lines are dropped.</summary>
    public void Finish()
    {
        StoreLines(screen.LastRowWithText(), staleBefore: null);
        if (_head.Count > 0)
        {
            TakeHead();
            Emit();
        }

        _heldEmptyLines = 0;
    }

    /// <summary>Writes the live region's lines, <c>\n</c>-separated; false when it is empty.</summary>
    public bool WriteLive(ScreenBuffer shown, bool alternate, IBufferWriter<byte> output)
    {
        int first = 0;
        if (!alternate)
        {
            first = FirstUnstoredLine();
            if (first < 0)
            {
                return false;
            }
        }

        int last = shown.LastRowWithText();
        if (last < first)
        {
            return false;
        }

        bool any = false;
        for (int row = first; row <= last; row = LineEnd(shown, row) + 1)
        {
            AssembleLine(shown, row, Math.Min(LineEnd(shown, row), last));
            if (any)
            {
                output.Write("\n"u8);
            }

            output.Write(CollectionsMarshal.AsSpan(_line));
            any = true;
        }

        return any;
    }

    /// <summary>Stores, top to bottom, the lines that end at or above <paramref name="lastRow"/> and are not stored yet.</summary>
    private void StoreLines(int lastRow, (long Now, TimeProvider Time)? staleBefore)
    {
        for (int row = 0; row <= lastRow; )
        {
            int end = LineEnd(screen, row);
            if (end > lastRow)
            {
                return; // the line reaches into the rows still held
            }

            if (!IsStored(row, end))
            {
                if (staleBefore is { } stale && !IsStale(row, end, stale.Now, stale.Time))
                {
                    return; // a line still changing holds every line below it, so the log keeps the screen's order
                }

                if (row == 0 && _head.Count > 0)
                {
                    TakeHead();
                    AppendRows(screen, 0, end);
                }
                else
                {
                    AssembleLine(screen, row, end);
                }

                Emit();
                for (int r = row; r <= end; r++)
                {
                    screen[r].Stored = true;
                }
            }

            row = end + 1;
        }
    }

    /// <summary>Marks every row above the cursor stored: the processor copied those lines to the log itself.</summary>
    public void MarkStoredAboveCursor()
    {
        for (int row = 0; row < screen.Y; row++)
        {
            screen[row].Stored = true;
        }
    }

    private bool IsStored(int first, int last)
    {
        for (int r = first; r <= last; r++)
        {
            if (!screen[r].Stored)
            {
                return false;
            }
        }

        return true;
    }

    private bool IsStale(int first, int last, long now, TimeProvider time)
    {
        for (int r = first; r <= last; r++)
        {
            if (time.GetElapsedTime(screen[r].ChangedAt, now) < StaleAfter)
            {
                return false;
            }
        }

        return true;
    }

    private int FirstUnstoredLine()
    {
        for (int row = 0; row < Rows; row = LineEnd(screen, row) + 1)
        {
            if (!IsStored(row, LineEnd(screen, row)))
            {
                return row;
            }
        }

        return -1;
    }

    /// <summary>The last row of the logical line that starts at <paramref name="row"/>.</summary>
    private static int LineEnd(ScreenBuffer buffer, int row)
    {
        while (row + 1 < Rows && buffer[row + 1].Continuation)
        {
            row++;
        }

        return row;
    }
}
