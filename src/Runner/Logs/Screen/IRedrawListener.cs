namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// What <see cref="ScreenCommands"/> tells the storing rule about how the program draws on the normal screen: line
/// feeds, moves to other rows, text written after a carriage return, and the cursor hidden or shown. The commands
/// know nothing else of it.
/// </summary>
internal interface IRedrawListener
{
    /// <summary>
    /// The cursor went from row <paramref name="from"/> to row <paramref name="to"/> by other means than a line feed;
    /// <paramref name="stepwise"/> when it moved up relative to where it was (CUU, CPL, RI), as a program walking back
    /// over lines it wrote does.
    /// </summary>
    void Moved(int from, int to, bool stepwise);

    /// <summary>The screen scrolled down to make room above: a redraw.</summary>
    void ScrolledDown();

    /// <summary>Text was written after a carriage return: a line redrawn in place.</summary>
    void TextAfterCarriageReturn();

    /// <summary>A line feed on the normal screen.</summary>
    void LineFed();

    /// <summary>The program erased the whole screen (CSI 2J, or CSI J from the home position), as a full-screen display does before drawing.</summary>
    void ScreenErased();

    /// <summary>The program erased the terminal's scrollback (CSI 3J), as <c>clear</c> does between a script's phases.</summary>
    void HistoryErased();

    /// <summary>The program hid or showed the cursor (DECTCEM).</summary>
    void CursorHidden(bool hidden);
}
