namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// Maps what <see cref="EscapeParser"/> classified to <see cref="ScreenBuffer"/> operations, with xterm.js's
/// meaning for each (src/common/InputHandler.ts): UTF-8 decoding and character widths, C0 controls, ESC and
/// CSI commands, modes, character sets and the alternate screen. It also tells the storing rule when the
/// program redraws: the cursor moving up, or text written after a carriage return.
/// </summary>
internal sealed partial class ScreenCommands
{
    /// <summary>REP repeats at most this many characters: a screenful, so a hostile count cannot spin the CPU.</summary>
    private readonly int _maxRepeat;

    private readonly ScreenBuffer _normal;

    /// <summary>The alternate screen, made the first time a program switches to it: most jobs never do, and its
    /// 50 × 200 cells are 80 KB of each job's memory.</summary>
    private ScreenBuffer? _alternate;
    private readonly IRedrawListener _listener;

    // UTF-8 bytes of a character not complete yet (a read may end inside one).
    private readonly byte[] _pending = new byte[4];
    private int _pendingLength;
    private int _pendingNeeded;

    private bool _origin;
    private bool _autoWrap = true;
    private bool _insert;
    private bool _carriageReturned;
    private bool _cursorHidden;

    /// <summary>The width of the character printed last, 0 after anything else: a combining mark joins only a character.</summary>
    private int _precedingWidth;

    // The sets designated as G0 and G1 (CharacterSets); _shifted selects G1 (SO) instead of G0 (SI); _charset is the
    // set in use, which DECRC may set apart from both (as xterm.js does).
    private byte _g0;
    private byte _g1;
    private bool _shifted;
    private byte _charset;
    private bool _reverseWraparound;

    private readonly bool _newLineReturns;

    public ScreenCommands(ScreenBuffer normal, IRedrawListener listener, bool newLineReturns)
    {
        _newLineReturns = newLineReturns;
        _normal = normal;
        _maxRepeat = normal.Columns * ScreenBuffer.Rows;
        _listener = listener;
        Active = normal;
    }

    /// <summary>The buffer being drawn on: the normal one or the alternate screen.</summary>
    public ScreenBuffer Active { get; private set; }

    public bool AlternateActive => Active == _alternate;

    /// <summary>True while the program has hidden the cursor (DECTCEM off), as live displays do.</summary>
    public bool CursorHidden
    {
        get => _cursorHidden;
        private set
        {
            if (_cursorHidden != value)
            {
                _cursorHidden = value;
                _listener.CursorHidden(value);
            }
        }
    }

    /// <summary>
    /// True when printable ASCII is written as it is, so a plain line may skip the screen: normal screen, default
    /// character set, autowrap on, insert mode off, no UTF-8 character waiting for its remaining bytes, and no carriage
    /// return waiting for the text that makes it a redraw of its line (a read that ended with <c>\r</c>).
    /// </summary>
    public bool IsPlain => !AlternateActive && _autoWrap && !_insert && !_origin && _pendingLength == 0 && !Graphics && !_carriageReturned;

    private bool Graphics => _charset != CharacterSets.Ascii;

    /// <summary>Sets the time that marks changed rows.</summary>
    public long Now
    {
        set
        {
            _normal.Now = value;
            _alternate?.Now = value;
        }
    }

    /// <summary>Writes a run of printable bytes (no C0 control, no DEL) at the cursor.</summary>
    public void Print(ReadOnlySpan<byte> text)
    {
        if (_carriageReturned)
        {
            _carriageReturned = false;
            if (!AlternateActive)
            {
                _listener.TextAfterCarriageReturn();
            }
        }

        var buffer = Active;
        int i = 0;
        while (i < text.Length)
        {
            byte b = text[i];
            if (_pendingLength > 0)
            {
                if (ContinuesPending(b))
                {
                    _pending[_pendingLength++] = b;
                    i++;
                    if (_pendingLength == _pendingNeeded)
                    {
                        _pendingLength = 0;
                        PrintCodePoint(DecodePending());
                    }

                    continue;
                }

                EndText();
            }

            if (b < 0x80)
            {
                int run = text[i..].IndexOfAnyInRange((byte)0x80, (byte)0xFF);
                run = run < 0 ? text.Length - i : run;
                PrintAsciiRun(buffer, text.Slice(i, run));
                i += run;
                continue;
            }

            int needed = b switch
            {
                >= 0xC2 and <= 0xDF => 2,
                >= 0xE0 and <= 0xEF => 3,
                >= 0xF0 and <= 0xF4 => 4,
                _ => 0,
            };
            i++;
            if (needed == 0)
            {
                PrintCell((ulong)(ScreenRow.InvalidByteBase + b), 1);
                continue;
            }

            _pending[0] = b;
            _pendingLength = 1;
            _pendingNeeded = needed;
        }
    }

    /// <summary>A control or sequence interrupts text: an unfinished UTF-8 character is written as the bytes it has.</summary>
    public void EndText()
    {
        int length = _pendingLength;
        _pendingLength = 0;
        for (int i = 0; i < length; i++)
        {
            PrintCell((ulong)(ScreenRow.InvalidByteBase + _pending[i]), 1);
        }
    }

    /// <summary>An OSC, DCS, SOS, PM or APC string ended: like any other sequence, it ends what REP repeats.</summary>
    public void EndString() => _precedingWidth = 0;

    private void PrintAsciiRun(ScreenBuffer buffer, ReadOnlySpan<byte> run)
    {
        while (!run.IsEmpty)
        {
            int room = buffer.Columns - buffer.X;
            if (room <= 0 || _insert || Graphics || !_autoWrap)
            {
                PrintCodePoint(run[0]);
                run = run[1..];
                continue;
            }

            int n = Math.Min(room, run.Length);
            buffer.PrintAscii(run[..n]);
            _precedingWidth = 1;
            run = run[n..];
        }
    }

    private void PrintCodePoint(int codePoint)
    {
        if (codePoint is 0xFEFF or (>= 0x80 and < 0xA0))
        {
            // @xterm/headless 6.0 (the oracle) drops the byte order mark while decoding, and acts on the C1 controls
            // IND, NEL and HTS written as UTF-8; the 8-bit introducers of CSI, OSC and DCS are not acted on here
            // (docs/architecture.md: exceptions). The soft hyphen is a character of its own there, as it is here.
            switch (codePoint)
            {
                case 0x84:
                    Escape(0, (byte)'D');
                    break;
                case 0x85:
                    Escape(0, (byte)'E');
                    break;
                case 0x88:
                    Escape(0, (byte)'H');
                    break;
            }

            return;
        }

        if (codePoint is >= 0x20 and <= 0x7E && Graphics)
        {
            codePoint = CharacterSets.Map(_charset, codePoint);
        }

        int width = UnicodeWidth.Of(codePoint);
        if (width == 0)
        {
            Active.PrintMark(codePoint, _precedingWidth != 0, _autoWrap, _insert);
            return;
        }

        PrintCell((ulong)codePoint, width);
    }

    private void PrintCell(ulong cell, int width)
    {
        Active.Print(cell, width, _autoWrap, _insert);
        _precedingWidth = width;
    }

    private bool ContinuesPending(byte b)
    {
        if ((b & 0xC0) != 0x80)
        {
            return false;
        }

        if (_pendingLength > 1)
        {
            return true;
        }

        // The second byte rules out overlong forms, surrogates and code points past U+10FFFF.
        return _pending[0] switch
        {
            0xE0 => b >= 0xA0,
            0xED => b <= 0x9F,
            0xF0 => b >= 0x90,
            0xF4 => b <= 0x8F,
            _ => true,
        };
    }

    private int DecodePending() => _pendingNeeded switch
    {
        2 => ((_pending[0] & 0x1F) << 6) | (_pending[1] & 0x3F),
        3 => ((_pending[0] & 0x0F) << 12) | ((_pending[1] & 0x3F) << 6) | (_pending[2] & 0x3F),
        _ => ((_pending[0] & 0x07) << 18) | ((_pending[1] & 0x3F) << 12) | ((_pending[2] & 0x3F) << 6) | (_pending[3] & 0x3F),
    };

    /// <summary>A C0 control.</summary>
    public void Execute(byte control)
    {
        EndText();
        _precedingWidth = 0;
        var buffer = Active;
        switch (control)
        {
            case 0x08:
                int rowBefore = buffer.Y;
                buffer.Backspace(_origin, _reverseWraparound);
                ReportMove(rowBefore, stepwise: true); // back over a wrap into the row above
                break;
            case 0x09:
                buffer.Tab(1);
                break;
            case 0x0A or 0x0B or 0x0C:
                if (_newLineReturns && control == 0x0A)
                {
                    buffer.X = 0; // what ONLCR makes of "\n" on a terminal (VT and FF stay line feeds)
                }

                buffer.LineFeed();
                _carriageReturned = false;
                if (!AlternateActive)
                {
                    _listener.LineFed();
                }

                break;
            case 0x0D:
                buffer.X = 0;
                _carriageReturned = true;
                break;
            case 0x0E:
                _shifted = true;
                _charset = _g1;
                break;
            case 0x0F:
                _shifted = false;
                _charset = _g0;
                break;

            // BEL and the other controls show nothing.
        }
    }

    /// <summary>REP: the cell before the cursor (with its combining marks), again, as xterm.js reads it back.</summary>
    private void Repeat(int count, int width)
    {
        var buffer = Active;
        int x = buffer.X - width;
        if (width == 0 || x < 0 || x >= buffer.Columns)
        {
            return;
        }

        ulong cell = buffer.CursorRow.Cells[x];
        if (ScreenRow.Base(cell) is 0 or ScreenRow.WideTail)
        {
            return;
        }

        count = Math.Min(count, _maxRepeat);
        for (int i = 0; i < count; i++)
        {
            buffer.Print(cell, width, _autoWrap, _insert);
        }
    }

    /// <summary>
    /// A sequence moved the cursor to another row: the program is redrawing lines it wrote (up), or drawing at a fixed
    /// row it will come back from (down, as apt's bottom bar): rows it jumped over were not passed by a line feed.
    /// </summary>
    private void ReportMove(int rowBefore, bool stepwise)
    {
        if (!AlternateActive && Active.Y != rowBefore)
        {
            _listener.Moved(rowBefore, Active.Y, stepwise);
        }
    }
}
