using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// Turns the raw bytes a job writes to its terminal into the log text a person reads on the screen (SPEC §2
/// "Terminal processing: the stored log is the screen"): a 200×50 virtual screen with xterm's semantics
/// (<see cref="ScreenBuffer"/>, driven by <see cref="EscapeParser"/> and <see cref="ScreenCommands"/>), and the
/// storing rule (<see cref="LiveRegion"/>) that decides when a line of that screen is stored.
/// </summary>
/// <remarks>
/// <para>
/// Once a job has ended, what this type stored equals what xterm.js shows in its scrollback and screen for the
/// same bytes, with the exceptions the README lists. Until then, the lines still within the program's reach are
/// the live region (<see cref="WriteLive"/>): shown, never stored, never counted.
/// </para>
/// <para>
/// Plain lines take a shortcut. While the program has not redrawn anything, complete lines of printable ASCII
/// and colours are copied to the log as they are (SGR left out, trailing spaces trimmed, <c>\r\n</c> stored as
/// <c>\n</c>), which is what the screen would store for them, and only the last screenful of them is drawn on the screen so that a later
/// redraw finds them there. It allocates nothing once warm.
/// </para>
/// </remarks>
public sealed class TerminalProcessor
{
    /// <summary>A logical line longer than this is stored in pieces of at most this many bytes (SPEC: 32 KiB).</summary>
    public const int MaxLineBytes = LiveRegion.MaxLineBytes;

    private readonly TimeProvider _time;
    private readonly ScreenBuffer _screen = new(hasScrollback: true);
    private readonly LiveRegion _live;
    private readonly ScreenCommands _commands;
    private readonly EscapeParser _parser;

    private readonly bool _newLineReturns;

    private readonly DeferredLines _deferred = new();

    // A plain line's text without its SGR sequences.
    private readonly byte[] _visible = new byte[MaxLineBytes];

    private static readonly SearchValues<byte> s_redrawStarts = SearchValues.Create(0x1B, (byte)'\b', (byte)'\r');

    /// <summary>
    /// A processor whose stale-line rule reads <paramref name="time"/> (the system clock when null). With
    /// <paramref name="newLineReturns"/> (output from a pipe), <c>\n</c> also returns the carriage, as a terminal's
    /// line discipline makes it (ONLCR); from a pseudo-terminal the kernel has done that already, unless the
    /// program turned it off, and a bare <c>\n</c> is a line feed as in xterm.
    /// </summary>
    public TerminalProcessor(TimeProvider? time = null, bool newLineReturns = false)
    {
        _time = time ?? TimeProvider.System;
        _newLineReturns = newLineReturns;
        _live = new LiveRegion(_screen);
        _screen.ScrolledOff = _live.ScrolledOff;
        _commands = new ScreenCommands(_screen, _live, newLineReturns);
        _parser = new EscapeParser(_commands);
    }

    /// <summary>Processes raw bytes; appends every line stored now to <paramref name="output"/>, each ending in <c>\n</c>.</summary>
    public void Process(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _live.Output = output;
        _commands.Now = _time.GetTimestamp();

        // Lines are stored at the end of the call, so a redraw later in the same read still finds them held;
        // the shortcut stores at once, so it is taken only for reads that cannot redraw.
        bool mayRedraw = MayRedraw(input);
        while (!input.IsEmpty)
        {
            int lineFeed = input.IndexOf((byte)'\n');
            int take = lineFeed < 0 ? input.Length : lineFeed + 1;
            if (!mayRedraw && lineFeed >= 0 && TryVisibleText(input[..take], out _) && TryStartCopy())
            {
                input = input[CopyPlainLines(input)..];
                continue;
            }

            DrawDeferredLines();
            _parser.Parse(input[..take]);
            input = input[take..];
        }

        _live.StoreOutOfReach(_commands.CursorHidden);
        _live.Output = null;
    }

    /// <summary>The job has ended: stores everything still held (trailing empty lines dropped).</summary>
    public void Finish(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _live.Output = output;
        _commands.EndText();
        _live.Finish();
        _live.Output = null;
    }

    /// <summary>Stores held lines that have not changed for 30 s (SPEC §2). Called by the runner's timer.</summary>
    public void StoreStale(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _live.Output = output;
        _live.StoreStale(_time.GetTimestamp(), _time);
        _live.Output = null;
    }

    /// <summary>Writes the live region's text (lines separated by <c>\n</c>); false when it is empty.</summary>
    public bool WriteLive(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        return _live.WriteLive(_commands.Active, _commands.AlternateActive, output);
    }

    /// <summary>
    /// True when <paramref name="input"/> holds an escape other than SGR (colours change nothing stored), a
    /// backspace, or a carriage return not followed by <c>\n</c>.
    /// </summary>
    private static bool MayRedraw(ReadOnlySpan<byte> input)
    {
        for (int at = input.IndexOfAny(s_redrawStarts); at >= 0; at = input.IndexOfAny(s_redrawStarts))
        {
            int skip = input[at] switch
            {
                (byte)'\r' => at + 1 < input.Length && input[at + 1] == '\n' ? 2 : 0,
                0x1B => SgrLength(input[at..]),
                _ => 0,
            };
            if (skip == 0)
            {
                return true;
            }

            input = input[(at + skip)..];
        }

        return false;
    }

    /// <summary>The length of a complete <c>ESC [ 0-9; m</c> at the start of <paramref name="input"/>, else 0 (a short scalar scan).</summary>
    private static int SgrLength(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3 || input[0] != 0x1B || input[1] != '[')
        {
            return 0;
        }

        for (int i = 2; i < input.Length && i < 34; i++)
        {
            byte b = input[i];
            if (b == 'm')
            {
                return i + 1;
            }

            if (b is not ((>= (byte)'0' and <= (byte)'9') or (byte)';' or (byte)':'))
            {
                return 0;
            }
        }

        return 0;
    }

    /// <summary>
    /// The length of the run of non-ASCII bytes at the start of <paramref name="text"/> when the screen stores them as
    /// they are, else 0: UTF-8 characters (and bytes that are not UTF-8, kept as written) other than the byte order
    /// mark and C1 controls, which the screen does not show, with at most two combining marks in a row (a cell keeps two).
    /// </summary>
    private static int Utf8Length(ReadOnlySpan<byte> text, ref int marks)
    {
        int length = 0;
        while (length < text.Length && text[length] >= 0x80)
        {
            var status = Rune.DecodeFromUtf8(text[length..], out var rune, out int consumed);
            if (status == OperationStatus.Done)
            {
                int codePoint = rune.Value;
                if (codePoint is 0xFEFF or (>= 0x80 and < 0xA0))
                {
                    return 0;
                }

                marks = UnicodeWidth.Of(codePoint) == 0 ? marks + 1 : 0;
                if (marks > 2)
                {
                    return 0;
                }
            }
            else
            {
                consumed = 1; // a byte that is not UTF-8: one cell of its own, stored as written
                marks = 0;
            }

            length += consumed;
        }

        return length;
    }

    private static bool StartsWithMark(ReadOnlySpan<byte> text) =>
        Rune.DecodeFromUtf8(text, out var rune, out _) == OperationStatus.Done && UnicodeWidth.Of(rune.Value) == 0;

    /// <summary>
    /// Copies a plain line's visible text to <see cref="_visible"/> — printable ASCII and UTF-8 (see
    /// <see cref="Utf8Length"/>), SGR sequences left out, trailing spaces trimmed — in one pass; false when the line holds anything else or its
    /// <c>\r\n</c> (or, where a new line returns the carriage, its <c>\n</c>) is missing.
    /// </summary>
    private bool TryVisibleText(ReadOnlySpan<byte> line, out int length)
    {
        length = 0;
        var text = line[..^1];
        if (!text.IsEmpty && text[^1] == '\r')
        {
            text = text[..^1];
        }
        else if (!_newLineReturns)
        {
            return false;
        }

        if (text.Length > MaxLineBytes)
        {
            return false;
        }

        var visible = _visible.AsSpan();
        int written = 0;
        int marks = 0;
        bool afterSequence = false;
        while (!text.IsEmpty)
        {
            int other = text.IndexOfAnyExceptInRange((byte)0x20, (byte)0x7E);
            int run = other < 0 ? text.Length : other;
            text[..run].CopyTo(visible[written..]);
            written += run;
            if (other < 0)
            {
                break;
            }

            marks = run > 0 ? 0 : marks;
            // A combining mark first on the line or right after a sequence has nothing to join (xterm.js forgets the
            // preceding character at every sequence): the screen's rules for it are left to the screen.
            bool standalone = run == 0 && (written == 0 || afterSequence);
            int skip = text[other] == 0x1B ? SgrLength(text[other..])
                : standalone && StartsWithMark(text[other..]) ? 0
                : Utf8Length(text[other..], ref marks);
            afterSequence = text[other] == 0x1B;
            if (skip == 0)
            {
                return false;
            }

            if (text[other] != 0x1B)
            {
                text.Slice(other, skip).CopyTo(visible[written..]);
                written += skip;
            }

            text = text[(other + skip)..];
        }

        while (written > 0 && visible[written - 1] == ' ')
        {
            written--;
        }

        length = written;
        return true;
    }

    /// <summary>True when the screen is in the state the shortcut needs, after storing every line above the cursor.</summary>
    private bool TryStartCopy()
    {
        if (!_deferred.IsEmpty)
        {
            return true; // the shortcut ran last and left the screen in its state (DeferredLines)
        }

        if (!_parser.InGround || !_commands.IsPlain || !_live.IsLinear(_commands.CursorHidden) || _live.HasHead
            || _screen.X != 0 || !_screen.CursorRow.IsBlank)
        {
            return false;
        }

        _live.StoreOutOfReach(_commands.CursorHidden);
        return true;
    }

    /// <summary>Draws the lines the shortcut stored on the screen, marked stored, before anything else uses the screen.</summary>
    private void DrawDeferredLines()
    {
        if (_deferred.IsEmpty)
        {
            return;
        }

        _live.Replaying = true;
        _parser.Parse(_deferred.Take());
        _live.Replaying = false;
        _live.MarkStoredAboveCursor();
    }

    /// <summary>Copies complete plain lines to the log and defers drawing them on the screen; returns the bytes consumed.</summary>
    private int CopyPlainLines(ReadOnlySpan<byte> input)
    {
        int consumed = 0;
        while (true)
        {
            var rest = input[consumed..];
            int lineFeed = rest.IndexOf((byte)'\n');
            if (lineFeed < 0 || !TryVisibleText(rest[..(lineFeed + 1)], out int length))
            {
                break;
            }

            _live.WriteLine(_visible.AsSpan(0, length));
            _deferred.Add(rest[..(lineFeed + 1)]);
            consumed += lineFeed + 1;
        }

        return consumed;
    }
}
