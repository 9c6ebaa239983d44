namespace LogQuota.Runner.Logs.Screen;

/// <summary>The DEC Special Graphics set (<c>ESC ( 0</c>): line-drawing characters for ASCII <c>`</c>–<c>~</c>, as xterm.js maps them.</summary>
internal static class DecGraphics
{
    private const string Glyphs = "◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·";

    /// <summary>The glyph for an ASCII code point from 0x5F to 0x7E; '_' and others stay as they are.</summary>
    public static int Map(int codePoint) => codePoint >= '`' ? Glyphs[codePoint - '`'] : codePoint;
}
