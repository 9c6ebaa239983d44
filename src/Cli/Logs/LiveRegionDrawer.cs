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
/// The erasing is exact only if every drawn line takes exactly one row and the cursor sits at the end of the last
/// one, so the drawer owns both: each line is cut to fit a row, control characters in it are dropped (job output must
/// not move the cursor behind the drawer's back), and no line end follows the last line. It is pure: it writes bytes
/// into a buffer and knows nothing of streams or terminals.
/// </remarks>
/// <param name="width">Terminal width in columns.</param>
/// <param name="height">Terminal height in rows.</param>
public sealed class LiveRegionDrawer(int width, int height)
{
    /// <summary>Columns of a tab stop, as on every terminal by default.</summary>
    private const int TabWidth = 8;

    /// <summary>Terminal height assumed when the terminal does not say: the classic 24 rows.</summary>
    private const int DefaultHeight = 24;

    private static readonly byte[] EraseRow = "\r\e[2K"u8.ToArray();
    private static readonly byte[] EraseRowAbove = "\e[1A\e[2K"u8.ToArray();

    // A line as wide as the terminal leaves the cursor in the "pending wrap" state, which terminals treat
    // differently (some wrap at once): one column less keeps every line on exactly one row everywhere.
    private readonly int _columns = Math.Max(1, width - 1);

    // Rows that scrolled off the top of the screen can no longer be erased: at most one screen less a row is drawn.
    private readonly int _rows = Math.Max(1, height - 1);

    private byte[]? _live;
    private int _drawnRows;
    private bool _atLineStart = true;

    /// <summary>A drawer for the console's terminal; null when output is not one that can redraw in place.</summary>
    public static LiveRegionDrawer? For(CliConsole console)
    {
        ArgumentNullException.ThrowIfNull(console);
        return console.DrawsInPlace
            ? new LiveRegionDrawer(console.TerminalWidth!.Value, console.TerminalHeight is int h and > 0 ? h : DefaultHeight)
            : null;
    }

    /// <summary>Rows of the live region on screen now.</summary>
    public int DrawnRows => _drawnRows;

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
        if (_drawnRows > 0 && live is not null && _live is not null && live.AsSpan().SequenceEqual(_live))
        {
            return;
        }

        Erase(output);
        _live = live;
        if (live is null || !_atLineStart)
        {
            return;
        }

        var lines = Lines(live);
        for (var i = 0; i < lines.Count; i++)
        {
            if (i > 0)
            {
                output.Write("\n"u8);
            }

            Encoding.UTF8.GetBytes(lines[i], output);
        }

        _drawnRows = lines.Count;
    }

    /// <summary>Erases the live region, leaving the cursor where the stored text continues.</summary>
    public void Erase(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_drawnRows == 0)
        {
            return;
        }

        output.Write(EraseRow);
        for (var row = 1; row < _drawnRows; row++)
        {
            output.Write(EraseRowAbove);
        }

        _drawnRows = 0;
    }

    /// <summary>
    /// Leaves the live region on screen as it is and moves the cursor to the start of the next row: for a follower
    /// that stops before the run has ended (Ctrl-C, a lost server), so the last view stays readable and what is
    /// printed next (an error, the shell's prompt) is not glued to its last line. Nothing more may be drawn after it.
    /// </summary>
    public void Leave(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_drawnRows == 0)
        {
            return;
        }

        output.Write("\n"u8);
        _drawnRows = 0;
        _live = null;
    }

    /// <summary>The lines to draw, each fitted to a row: the last ones that fit on the screen.</summary>
    private List<string> Lines(byte[] live)
    {
        var text = Encoding.UTF8.GetString(live);
        var lines = text.Split('\n');
        var count = lines.Length;
        if (count > 0 && lines[^1].Length == 0)
        {
            count--;
        }

        var fitted = new List<string>(Math.Min(count, _rows));
        for (var i = Math.Max(0, count - _rows); i < count; i++)
        {
            fitted.Add(Fit(lines[i]));
        }

        return fitted;
    }

    /// <summary>Cuts a line to the row's columns, by the cells each character takes (wide characters take two).</summary>
    private string Fit(string line)
    {
        var fitted = new StringBuilder(Math.Min(line.Length, _columns));
        var used = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            if (rune.Value == '\t')
            {
                var spaces = Math.Min(TabWidth - (used % TabWidth), _columns - used);
                fitted.Append(' ', spaces);
                used += spaces;
            }
            else if (!Rune.IsControl(rune))
            {
                var cells = rune.ToString().GetCellWidth();
                if (used + cells > _columns)
                {
                    break;
                }

                fitted.Append(rune.ToString());
                used += cells;
            }

            if (used >= _columns)
            {
                break;
            }
        }

        return fitted.ToString().TrimEnd(' ');
    }
}
