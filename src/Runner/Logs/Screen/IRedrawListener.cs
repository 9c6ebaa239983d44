namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// What <see cref="ScreenCommands"/> tells the storing rule about how the program draws on the normal screen: line
/// feeds, moves to other rows, and text written after a carriage return. The commands know nothing else of it.
/// </summary>
internal interface IRedrawListener
{
    /// <summary>The cursor went <paramref name="rows"/> rows away by other means than a line feed, or the screen scrolled down.</summary>
    void Repositioned(int rows);

    /// <summary>Text was written after a carriage return: a line redrawn in place.</summary>
    void TextAfterCarriageReturn();

    /// <summary>A line feed on the normal screen.</summary>
    void LineFed();
}
