using System.Buffers;
using System.Text;
using LogQuota.Runner.Execution;
using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// Turns the raw bytes a job writes to its terminal into the log text a person reads on the screen (SPEC §2
/// "Terminal processing: the stored log is the screen"): a virtual screen of 50 rows, as wide as the job's terminal
/// (200 columns unless the run asks otherwise), with xterm's semantics (<see cref="ScreenBuffer"/>, driven by
/// <see cref="EscapeParser"/> and <see cref="ScreenCommands"/>), and the storing rule (<see cref="StoringRule"/>)
/// that decides when a line of that screen is stored.
/// </summary>
/// <remarks>
/// <para>
/// Once a job has ended, what this type stored equals what xterm.js shows in its scrollback and screen for the
/// same bytes, with the exceptions docs/architecture.md lists. Until then, the lines still within the program's reach are
/// the live region (<see cref="WriteLive"/>): shown, never stored, never counted.
/// </para>
/// <para>
/// Plain lines take a shortcut. While the program has not redrawn anything and writes in the default style, with no
/// scroll region, no carriage return waiting for text and nothing on the screen from the cursor down (where a line
/// would show through), complete lines of printable text without escape sequences are copied to the log as they are
/// (trailing spaces trimmed, <c>\r\n</c> stored as <c>\n</c>), which is what the screen would store for them, and only
/// the last screenful of them is drawn on the screen so that a later redraw finds them there. It allocates nothing once
/// warm.
/// </para>
/// <para>
/// Each cell keeps its style (colours, bold, italic, underline, inverse, OSC 8 link); a stored line's styled stretches
/// go to <see cref="Styles"/> as runs beside the text, never in it. Lines with a sequence in them take the screen's
/// path, so the shortcut never has to know the pen.
/// </para>
/// </remarks>
public sealed class TerminalProcessor
{
    /// <summary>A logical line longer than this is stored in pieces of at most this many bytes (SPEC: 32 KiB).</summary>
    public const int MaxLineBytes = StoringRule.MaxLineBytes;

    private readonly TimeProvider _time;
    private readonly ScreenBuffer _screen;
    private readonly StoringRule _rule;
    private readonly ScreenCommands _commands;
    private readonly EscapeParser _parser;

    private const byte Escape = 0x1B;

    private readonly bool _newLineReturns;

    private readonly DeferredLines _deferred = new();
    private readonly StoredStyles _styles;

    /// <summary>
    /// A processor whose stale-line rule reads <paramref name="time"/> (the system clock when null). With
    /// <paramref name="newLineReturns"/> (output from a pipe), <c>\n</c> also returns the carriage, as a terminal's
    /// line discipline makes it (ONLCR); from a pseudo-terminal the kernel has done that already, unless the
    /// program turned it off, and a bare <c>\n</c> is a line feed as in xterm. The screen is
    /// <paramref name="columns"/> wide, as the job's terminal is: a line wraps where the job's program saw it wrap.
    /// </summary>
    public TerminalProcessor(TimeProvider? time = null, bool newLineReturns = false, int columns = ScreenBuffer.DefaultColumns)
    {
        _time = time ?? TimeProvider.System;
        _screen = new ScreenBuffer(hasScrollback: true, columns);
        _newLineReturns = newLineReturns;
        _rule = new StoringRule(_screen);
        _screen.ScrolledOff = _rule.ScrolledOff;
        _commands = new ScreenCommands(_screen, _rule, newLineReturns);
        _parser = new EscapeParser(_commands);
        _styles = new StoredStyles(_commands.Links);
        _rule.Styles = _styles;
    }

    /// <summary>The style runs of the text the last call stored (process, finish or stale), over that text's bytes.</summary>
    public IReadOnlyList<StoredRun> Styles => _styles.Runs;

    /// <summary>Processes raw bytes; appends every line stored now to <paramref name="output"/>, each ending in <c>\n</c>.</summary>
    public void Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Begin(output);
        _commands.Now = _time.GetTimestamp();

        // The shortcut is taken only for reads that cannot redraw; the screen path stores lines at the line feeds and
        // moves that take them out of reach (StoringRule), wherever the read ends. A line with a sequence may change
        // the pen, which only the screen follows.
        bool mayRedraw = PlainLines.MayRedraw(input);
        bool hasEscape = input.Contains(Escape);

        // A plain line's text without its SGR sequences, in a buffer rented for this call (OutputBuffers): an idle job
        // holds no 32 KiB of its own, and busy ones share a few. Cut to the longest line: a pool may hand out more.
        var rented = OutputBuffers.Pool.Rent(MaxLineBytes);
        var visibleText = rented.AsSpan(0, MaxLineBytes);
        try
        {
            while (!input.IsEmpty)
            {
                int lineFeed = input.IndexOf((byte)'\n');
                int take = lineFeed < 0 ? input.Length : lineFeed + 1;
                if (!mayRedraw && lineFeed >= 0 && (!hasEscape || !input[..take].Contains(Escape))
                    && PlainLines.TryVisibleText(input[..take], _newLineReturns, visibleText, out int visible) && visible > 0 && TryStartCopy())
                {
                    input = input[CopyPlainLines(input, visibleText)..];
                    continue;
                }

                DrawDeferredLines();
                _parser.Parse(input[..take]);
                input = input[take..];
            }
        }
        finally
        {
            OutputBuffers.Pool.Return(rented);
        }

        _rule.Output = null;
    }

    /// <summary>The job has ended: stores everything still held (trailing empty lines dropped).</summary>
    public void Finish(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Begin(output);
        _commands.EndText();
        _rule.Finish();
        _rule.Output = null;
    }

    /// <summary>Stores held lines that have not changed for 30 s (SPEC §2). Called by the runner's timer.</summary>
    public void StoreStale(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Begin(output);
        _rule.StoreStale(_time.GetTimestamp(), _time);
        _rule.Output = null;
    }

    /// <summary>Writes the live region's text (lines separated by <c>\n</c>); false when it is empty.</summary>
    public bool WriteLive(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return _rule.WriteLive(_commands.Active, _commands.AlternateActive, output);
    }

    private void Begin(IBufferWriter<byte> output)
    {
        _rule.Output = output;
        _styles.Clear();
    }

    /// <summary>True when the screen is in the state the shortcut needs, after storing every line above the cursor.</summary>
    private bool TryStartCopy()
    {
        if (!_deferred.IsEmpty)
        {
            return true; // the shortcut ran last and left the screen in its state (DeferredLines)
        }

        if (!_parser.InGround || !_commands.IsPlain || _commands.Pen != 0 || !_rule.IsLinear || _rule.HasHead
            || _screen.X != 0 || _screen.Top != 0 || _screen.Bottom != ScreenBuffer.Rows - 1
            || _screen.LastRowWithText() >= _screen.Y)
        {
            // Text from the cursor down (lines pushed down by CSI L, or drawn there before the cursor went up) would show
            // through a shorter line, which only the screen path keeps; in a scroll region lines scroll otherwise too.
            return false;
        }

        _rule.StoreAboveCursor(); // the shortcut's first line has text, so blank rows above it are lines now
        return true;
    }

    /// <summary>Draws the lines the shortcut stored on the screen, marked stored, before anything else uses the screen.</summary>
    private void DrawDeferredLines()
    {
        if (_deferred.IsEmpty)
        {
            return;
        }

        _rule.Replaying = true;
        _parser.Parse(_deferred.Take());
        _rule.Replaying = false;
        _rule.MarkStoredAboveCursor();
    }

    /// <summary>Copies complete plain lines to the log and defers drawing them on the screen; returns the bytes consumed.</summary>
    private int CopyPlainLines(ReadOnlySpan<byte> input, Span<byte> visibleText)
    {
        int consumed = 0;
        while (true)
        {
            var rest = input[consumed..];
            int lineFeed = rest.IndexOf((byte)'\n');
            // An empty line goes through the screen, which holds a blank row until text follows below it; so does a line
            // with a sequence, which may change the pen.
            if (lineFeed < 0 || rest[..(lineFeed + 1)].Contains(Escape) || !PlainLines.TryVisibleText(rest[..(lineFeed + 1)], _newLineReturns, visibleText, out int length) || length == 0)
            {
                break;
            }

            _rule.WriteLine(visibleText[..length]);
            _deferred.Add(rest[..(lineFeed + 1)]);
            consumed += lineFeed + 1;
        }

        return consumed;
    }
}
