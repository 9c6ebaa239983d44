namespace LogQuota.Runner.Logs.Screen;

/// <summary>ESC and CSI commands. Anything not listed changes nothing that is stored (reports, window operations).</summary>
internal sealed partial class ScreenCommands
{
    public void Escape(byte intermediate, byte final)
    {
        EndText();
        _precedingWidth = 0;
        var buffer = Active;
        int rowBefore = buffer.Y;
        switch (intermediate, final)
        {
            case (0, (byte)'7'):
                SaveCursor();
                break;
            case (0, (byte)'8'):
                RestoreCursor();
                break;
            case (0, (byte)'D'):
                buffer.Index(_origin);
                break;
            case (0, (byte)'E'):
                buffer.X = 0;
                buffer.Index(_origin);
                break;
            case (0, (byte)'M'):
                if (buffer.Y == buffer.Top && !AlternateActive)
                {
                    _listener.ScrolledDown();
                }

                buffer.ReverseIndex(_origin);
                break;
            case (0, (byte)'H'):
                buffer.SetTab();
                break;
            case (0, (byte)'c'):
                FullReset();
                break;
            case ((byte)'(', _):
                _g0 = CharacterSets.Designated(final);
                _charset = _shifted ? _g1 : _g0;
                break;
            case ((byte)')', _):
                _g1 = CharacterSets.Designated(final);
                _charset = _shifted ? _g1 : _g0;
                break;
            case ((byte)'#', (byte)'8'):
                buffer.AlignmentPattern(_origin);
                break;
        }

        if (intermediate != 0 || final is not ((byte)'D' or (byte)'E'))
        {
            ReportMove(rowBefore, stepwise: intermediate == 0 && final == 'M'); // IND and NEL are line feeds
        }
        else if (!AlternateActive)
        {
            _listener.LineFed();
        }
    }

    /// <param name="colons">Bit <c>i</c> set when parameter <c>i</c> followed a <c>:</c>.</param>
    public void Csi(ReadOnlySpan<int> parameters, byte prefix, byte intermediate, byte final, int colons = 0)
    {
        EndText();
        int preceding = _precedingWidth;
        _precedingWidth = 0; // every sequence, REP too, ends what a later REP may repeat
        var buffer = Active;
        int rowBefore = buffer.Y;
        int p0 = parameters[0];
        int n = Math.Max(1, p0);
        if (prefix == '?')
        {
            if (final is (byte)'h' or (byte)'l')
            {
                foreach (int mode in parameters)
                {
                    SetPrivateMode(mode, final == 'h');
                }
            }
        }
        else if (prefix != 0)
        {
            // '>', '=' and '<' sequences are reports and keyboard settings.
        }
        else if (intermediate == '!' && final == 'p')
        {
            SoftReset();
        }
        else if (intermediate == 0)
        {
            switch (final)
            {
                case (byte)'m':
                    Pen = CellStyle.Apply(Pen, parameters, colons);
                    break;
                case (byte)'@':
                    buffer.InsertCharacters(n, _origin);
                    break;
                case (byte)'A':
                    buffer.CursorUp(n, _origin);
                    break;
                case (byte)'B':
                    buffer.CursorDown(n, _origin);
                    break;
                case (byte)'C' or (byte)'a':
                    buffer.MoveCursor(n, 0, _origin);
                    break;
                case (byte)'D':
                    buffer.MoveCursor(-n, 0, _origin);
                    break;
                case (byte)'E':
                    buffer.CursorDown(n, _origin);
                    buffer.X = 0;
                    break;
                case (byte)'F':
                    buffer.CursorUp(n, _origin);
                    buffer.X = 0;
                    break;
                case (byte)'G' or (byte)'`':
                    buffer.SetCursor(n - 1, buffer.Y, _origin); // xterm.js passes the absolute row, in origin mode too
                    break;
                case (byte)'H' or (byte)'f':
                    buffer.SetCursor(parameters.Length >= 2 ? Math.Max(1, parameters[1]) - 1 : 0, n - 1, _origin);
                    break;
                case (byte)'I':
                    buffer.Tab(n);
                    break;
                case (byte)'J':
                    bool wholeScreen = p0 == 2 || (p0 == 0 && buffer.X == 0 && buffer.Y == 0);
                    buffer.EraseInDisplay(p0, _origin);
                    if (AlternateActive)
                    {
                        break;
                    }

                    if (wholeScreen)
                    {
                        _listener.ScreenErased();
                    }
                    else if (p0 == 3)
                    {
                        _listener.HistoryErased();
                    }

                    break;
                case (byte)'K':
                    buffer.EraseInLine(p0, _origin);
                    break;
                case (byte)'L':
                    buffer.InsertLines(n, _origin);
                    break;
                case (byte)'M':
                    buffer.DeleteLines(n, _origin);
                    break;
                case (byte)'P':
                    buffer.DeleteCharacters(n, _origin);
                    break;
                case (byte)'S':
                    buffer.ShiftUp(buffer.Top, buffer.Bottom, n);
                    break;
                case (byte)'T':
                    if (parameters.Length == 1)
                    {
                        buffer.ShiftDown(buffer.Top, buffer.Bottom, n);
                        ReportScrollDown();
                    }

                    break;
                case (byte)'X':
                    buffer.EraseCharacters(n, _origin);
                    break;
                case (byte)'Z':
                    buffer.BackTab(n);
                    break;
                case (byte)'b':
                    Repeat(n, preceding);
                    break;
                case (byte)'d':
                    buffer.SetCursor(buffer.X, n - 1, _origin);
                    break;
                case (byte)'e':
                    buffer.MoveCursor(0, n, _origin);
                    break;
                case (byte)'g':
                    buffer.ClearTab(p0);
                    break;
                case (byte)'h' or (byte)'l':
                    foreach (int mode in parameters)
                    {
                        if (mode == 4)
                        {
                            _insert = final == 'h';
                        }
                    }

                    break;
                case (byte)'r':
                    buffer.SetScrollRegion(Math.Max(1, p0), parameters.Length >= 2 ? parameters[1] : 0, _origin);
                    break;
                case (byte)'s':
                    SaveCursor();
                    break;
                case (byte)'u':
                    RestoreCursor();
                    break;
            }
        }

        ReportMove(rowBefore, stepwise: prefix == 0 && intermediate == 0 && final is ((byte)'A' or (byte)'F'));
    }

    private void ReportScrollDown()
    {
        if (!AlternateActive)
        {
            _listener.ScrolledDown();
        }
    }

    private void SetPrivateMode(int mode, bool set)
    {
        switch (mode)
        {
            case 6:
                _origin = set;
                Active.SetCursor(0, 0, _origin);
                break;
            case 7:
                _autoWrap = set;
                break;
            case 45:
                _reverseWraparound = set;
                break;
            case 25:
                CursorHidden = !set;
                break;
            case 1048:
                if (set)
                {
                    SaveCursor();
                }
                else
                {
                    RestoreCursor();
                }

                break;
            case 47 or 1047 or 1049:
                if (set)
                {
                    if (mode == 1049)
                    {
                        SaveCursor();
                    }

                    ActivateAlternate();
                }
                else
                {
                    ActivateNormal();
                    if (mode == 1049)
                    {
                        RestoreCursor();
                    }
                }

                break;
        }
    }

    private void ActivateAlternate()
    {
        if (AlternateActive)
        {
            return;
        }

        // Made on first use with what both screens share: the pen and the time that marks changed rows.
        _alternate ??= new ScreenBuffer(hasScrollback: false, _normal.Columns) { Pen = _pen, Now = _normal.Now };
        _alternate.Clear();
        _alternate.X = _normal.X;
        _alternate.Y = _normal.Y;
        Active = _alternate;
    }

    private void ActivateNormal()
    {
        if (!AlternateActive)
        {
            return;
        }

        // xterm.js carries the cursor back from the alternate screen.
        _normal.X = Active.X;
        _normal.Y = Active.Y;
        Active = _normal;
    }

    private void SaveCursor()
    {
        var buffer = Active;
        buffer.Saved = new SavedCursor(buffer.X, buffer.Y + buffer.ScrollbackLength, _charset, Pen);
    }

    private void RestoreCursor()
    {
        var buffer = Active;
        var saved = buffer.Saved;

        // The saved row is absolute, as in xterm.js: after a scroll, the cursor comes back that much higher. As in
        // @xterm/headless 6.0 (the oracle), DECSC saves the character set in use, not the origin or autowrap mode.
        buffer.X = saved.X;
        buffer.Y = (int)Math.Max(saved.Row - buffer.ScrollbackLength, 0);
        _charset = saved.Charset;
        Pen = saved.Pen;
        buffer.Restrict(_origin);
    }

    /// <summary>DECSTR, as xterm.js: modes, character sets, the region and the saved cursor back to their defaults; the cursor stays where it is.</summary>
    private void SoftReset()
    {
        CursorHidden = false;
        _insert = false;
        _origin = false;
        _autoWrap = true;
        _reverseWraparound = false;
        _g0 = _g1 = _charset = CharacterSets.Ascii;
        _shifted = false;
        Active.ResetScrollRegion();
        Active.Saved = new SavedCursor(0, Active.ScrollbackLength, CharacterSets.Ascii, 0);
        Pen = 0;
    }

    /// <summary>RIS: both screens blank, every mode back to its default (what was stored stays stored).</summary>
    private void FullReset()
    {
        ActivateNormal();
        SoftReset();
        _normal.Clear();
        _alternate?.Clear();
    }
}

/// <summary>What DECSC saves: the position (the row counted from the start of the scrollback), the character set in use and the pen (SGR and link).</summary>
internal readonly record struct SavedCursor(int X, long Row, byte Charset, ulong Pen);
