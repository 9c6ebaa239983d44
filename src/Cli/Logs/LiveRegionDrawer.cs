using System.Buffers;
using System.Text;
using LogQuota.Cli.Terminal;
using Spectre.Console;

namespace LogQuota.Cli.Logs;

/// <summary>
/// Draws a run's live region (SPEC §2: the lines still on the job's screen that it may redraw, such as progress bars)
/// below the stored lines on a terminal, and redraws it in place: before anything new is written, the rows it drew
/// are erased and the cursor goes back to where the stored text continues.
/// </summary>
/// <remarks>
/// The erasing is exact only if the drawer knows how many rows it drew and the cursor sits at the end of the last one,
/// so it owns both: a line wider than the terminal is wrapped onto as many rows as it needs, never cut, each row
/// ended by the drawer itself; control characters in it are dropped (job output must not move the cursor behind the
/// drawer's back), and no line end follows the last row. When the terminal has been resized since the region was
/// drawn, a terminal that reflows its text (tmux, VTE, iTerm2, Windows Terminal, xterm.js) has rewrapped each drawn
/// row at the new width, so the rows to erase are counted at that width. It is pure: it writes bytes into a buffer
/// and knows nothing of streams or terminals.
/// </remarks>
/// <param name="width">Terminal width in columns.</param>
/// <param name="height">Terminal height in rows.</param>
/// <param name="currentWidth">Reads the terminal's width now, for a terminal that may be resized; null: it never is.</param>
public sealed class LiveRegionDrawer(int width, int height, Func<int>? currentWidth = null)
{
    /// <summary>Columns of a tab stop, as on every terminal by default.</summary>
    private const int TabWidth = 8;

    /// <summary>Terminal height assumed when the terminal does not say: the classic 24 rows.</summary>
    private const int DefaultHeight = 24;

    private static readonly byte[] EraseRow = "\r\e[2K"u8.ToArray();
    private static readonly byte[] EraseRowAbove = "\e[1A\e[2K"u8.ToArray();

    // Rows that scrolled off the top of the screen can no longer be erased: at most one screen less a row is drawn.
    private readonly int _rows = Math.Max(1, height - 1);

    // The cells of each row drawn, to count the rows they take once the terminal has rewrapped them.
    private readonly List<int> _drawnCells = [];

    private int _width = width;
    private byte[]? _live;
    private bool _atLineStart = true;

    /// <summary>A drawer for the console's terminal; null when output is not one that can redraw in place.</summary>
    public static LiveRegionDrawer? For(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        return console.DrawsInPlace
            ? new LiveRegionDrawer(console.TerminalWidth!.Value, console.TerminalHeight is int h and > 0 ? h : DefaultHeight, console.CurrentTerminalWidth)
            : null;
    }

    /// <summary>Rows of the live region on screen now, at the width it was drawn.</summary>
    public int DrawnRows => _drawnCells.Count;

    // A line as wide as the terminal leaves the cursor in the "pending wrap" state, which terminals treat
    // differently (some wrap at once): one column less keeps every row on exactly one row everywhere.
    private int Columns => Math.Max(1, _width - 1);

    /// <summary>Writes stored log bytes, erasing the live region first when it is drawn. They are written exactly as
    /// stored; the live region comes back with the next <see cref="DrawLive"/>.</summary>
    public void WriteStored(IBufferWriter<byte> output, ReadOnlySpan<byte> stored)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (stored.IsEmpty)
        {
            return;
        }

        Erase(output);
        output.Write(stored);
        _atLineStart = stored[^1] == (byte)'\n';
    }

    /// <summary>
    /// Draws <paramref name="live"/> (UTF-8, <c>\n</c>-separated) in place of the live region drawn before; null or
    /// empty erases it. Nothing is written when it is already on screen. While the stored text ends in the middle of
    /// a line, nothing is drawn: the live lines would be glued to it, and erasing them would erase it too.
    /// </summary>
    public void DrawLive(IBufferWriter<byte> output, byte[]? live)
    {
        ArgumentNullException.ThrowIfNull(output);
        int now = currentWidth?.Invoke() is int w and > 0 ? w : _width;
        if (_drawnCells.Count > 0 && now == _width && live is not null && _live is not null && live.AsSpan().SequenceEqual(_live))
        {
            return;
        }

        Erase(output);
        _live = live;
        if (live is null || !_atLineStart)
        {
            return;
        }

        var rows = Rows(live);
        for (var i = 0; i < rows.Count; i++)
        {
            if (i > 0)
            {
                output.Write("\n"u8);
            }

            Encoding.UTF8.GetBytes(rows[i].Text, output);
            _drawnCells.Add(rows[i].Cells);
        }
    }

    /// <summary>
    /// Draws the live region on screen again at the terminal's width now, after a resize; nothing when none is drawn
    /// (it was erased before a prompt or a summary, or left) or the width has not changed.
    /// </summary>
    public void Redraw(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_drawnCells.Count > 0)
        {
            DrawLive(output, _live);
        }
    }

    /// <summary>Erases the live region, leaving the cursor where the stored text continues.</summary>
    public void Erase(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int now = currentWidth?.Invoke() is int w and > 0 ? w : _width;
        if (_drawnCells.Count > 0)
        {
            // Resized since drawn: a reflowing terminal has rewrapped each drawn row at the new width.
            int rows = now == _width ? _drawnCells.Count : _drawnCells.Sum(cells => Math.Max(1, (cells + now - 1) / now));
            output.Write(EraseRow);
            for (var row = 1; row < rows; row++)
            {
                output.Write(EraseRowAbove);
            }

            _drawnCells.Clear();
        }

        _width = now;
    }

    /// <summary>
    /// Leaves the live region on screen as it is and moves the cursor to the start of the next row: for a follower
    /// that stops before the run has ended (Ctrl-C, a lost server), so the last view stays readable and what is
    /// printed next (an error, the shell's prompt) is not glued to its last line. Nothing more may be drawn after it.
    /// </summary>
    public void Leave(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_drawnCells.Count == 0)
        {
            return;
        }

        output.Write("\n"u8);
        _drawnCells.Clear();
        _live = null;
    }

    /// <summary>The rows to draw, each line wrapped as a terminal wraps it: the last ones that fit on the screen.</summary>
    private List<(string Text, int Cells)> Rows(byte[] live)
    {
        var text = Encoding.UTF8.GetString(live);
        var lines = text.Split('\n');
        var count = lines.Length;
        if (count > 0 && lines[^1].Length == 0)
        {
            count--;
        }

        var rows = new List<(string Text, int Cells)>();
        for (var i = 0; i < count; i++)
        {
            Wrap(lines[i], rows);
        }

        return rows.Count > _rows ? rows[^_rows..] : rows;
    }

    /// <summary>Adds the rows of one line: by the cells each character takes (wide characters take two), a wide one that does not fit going to the next row.</summary>
    private void Wrap(string line, List<(string Text, int Cells)> rows)
    {
        var first = rows.Count;
        var row = new StringBuilder();
        var used = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            if (rune.Value == '\t')
            {
                var spaces = TabWidth - (used % TabWidth);
                if (used + spaces > Columns)
                {
                    spaces = Columns - used;
                }

                row.Append(' ', spaces);
                used += spaces;
            }
            else if (!Rune.IsControl(rune))
            {
                var cells = rune.ToString().GetCellWidth();
                if (used + cells > Columns)
                {
                    EndRow(rows, row, used);
                    used = 0;
                }

                row.Append(rune.ToString());
                used += cells;
            }

            if (used >= Columns)
            {
                EndRow(rows, row, used);
                used = 0;
            }
        }

        if (used > 0 || rows.Count == first)
        {
            EndRow(rows, row, used);
        }
    }

    private static void EndRow(List<(string Text, int Cells)> rows, StringBuilder row, int used)
    {
        var text = row.ToString().TrimEnd(' ');
        rows.Add((text, used - (row.Length - text.Length)));
        row.Clear();
    }
}
