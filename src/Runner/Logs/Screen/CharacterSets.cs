namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// The character sets a program can designate with <c>ESC ( F</c> / <c>ESC ) F</c> that change what is shown, as
/// xterm.js maps them: DEC Special Graphics (<c>0</c>, line drawing for ASCII <c>`</c>–<c>~</c>) and the United
/// Kingdom set (<c>A</c>: <c>#</c> is <c>£</c>). Any other final byte designates ASCII here (docs/architecture.md:
/// exceptions).
/// </summary>
internal static class CharacterSets
{
    public const byte Ascii = 0;
    public const byte DecGraphics = (byte)'0';
    public const byte UnitedKingdom = (byte)'A';

    private const string Glyphs = "◆▒␉␌␍␊°±␤␋┘┐┌└┼⎺⎻─⎼⎽├┤┴┬│≤≥π≠£·";

    /// <summary>The set a designation's final byte selects.</summary>
    public static byte Designated(byte final) => final is DecGraphics or UnitedKingdom ? final : Ascii;

    /// <summary>The code point <paramref name="set"/> shows for the printable ASCII <paramref name="codePoint"/>.</summary>
    public static int Map(byte set, int codePoint) => set switch
    {
        DecGraphics when codePoint is >= '`' and <= '~' => Glyphs[codePoint - '`'],
        UnitedKingdom when codePoint == '#' => '£',
        _ => codePoint,
    };
}
