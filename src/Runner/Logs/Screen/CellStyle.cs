using System.Globalization;
using System.Text;

namespace LogQuota.Runner.Logs.Screen;

/// <summary>
/// A cell's style packed in one <see cref="ulong"/>, 0 for the default: what SGR sets (xterm.js's <c>AttributeData</c>
/// for the attributes a log shows) and the cell's OSC 8 link. Packed so that a cell costs one word beside its text and
/// a plain screen none at all (<see cref="ScreenRow.Styles"/> is allocated only when a styled cell is written).
/// </summary>
/// <remarks>
/// Bits 0–25 the foreground, 26–51 the background (each: 0 default, <see cref="Palette"/> + index 0–255, or
/// <see cref="Rgb"/> + 24-bit colour), 52 bold, 53 italic, 54 underline, 55 inverse, 56–63 the link's id in
/// <see cref="LinkTable"/> (0 none).
/// </remarks>
internal static class CellStyle
{
    public const ulong Palette = 1UL << 24;
    public const ulong Rgb = 2UL << 24;
    public const ulong Bold = 1UL << 52;
    public const ulong Italic = 1UL << 53;
    public const ulong Underline = 1UL << 54;
    public const ulong Inverse = 1UL << 55;
    private const ulong ColourMask = (1UL << 26) - 1;
    private const int BackgroundShift = 26;
    private const int LinkShift = 56;
    private const ulong LinkMask = 0xFFUL << LinkShift;

    public static ulong Foreground(ulong style) => style & ColourMask;

    public static ulong Background(ulong style) => (style >> BackgroundShift) & ColourMask;

    public static ulong WithForeground(ulong style, ulong colour) => (style & ~ColourMask) | colour;

    public static ulong WithBackground(ulong style, ulong colour) => (style & ~(ColourMask << BackgroundShift)) | (colour << BackgroundShift);

    public static int Link(ulong style) => (int)(style >> LinkShift);

    public static ulong WithLink(ulong style, int link) => (style & ~LinkMask) | ((ulong)link << LinkShift);

    /// <summary>The style without its link: what SGR rebuilds.</summary>
    public static ulong Colours(ulong style) => style & ~LinkMask;

    /// <summary>
    /// Applies one SGR sequence's parameters to <paramref name="style"/>, as xterm.js does for the attributes kept.
    /// <paramref name="colons"/> has bit <c>i</c> set when parameter <c>i</c> followed a <c>:</c> (a sub-parameter, as
    /// in <c>38:2::255:0:0</c>). Unknown or malformed parameters are skipped; the link is kept.
    /// </summary>
    public static ulong Apply(ulong style, ReadOnlySpan<int> parameters, int colons)
    {
        for (int i = 0; i < parameters.Length; i++)
        {
            int p = parameters[i];
            switch (p)
            {
                case 0:
                    style &= LinkMask;
                    break;
                case 1:
                    style |= Bold;
                    break;
                case 3:
                    style |= Italic;
                    break;
                case 4:
                    // 4:0 turns underline off; 4:1 to 4:5 are its kinds, all shown as underline.
                    bool off = i + 1 < parameters.Length && IsSub(colons, i + 1) && parameters[i + 1] == 0;
                    style = off ? style & ~Underline : style | Underline;
                    while (i + 1 < parameters.Length && IsSub(colons, i + 1))
                    {
                        i++;
                    }

                    break;
                case 7:
                    style |= Inverse;
                    break;
                case 22:
                    style &= ~Bold;
                    break;
                case 23:
                    style &= ~Italic;
                    break;
                case 24:
                    style &= ~Underline;
                    break;
                case 27:
                    style &= ~Inverse;
                    break;
                case >= 30 and <= 37:
                    style = WithForeground(style, Palette + (ulong)(p - 30));
                    break;
                case 39:
                    style = WithForeground(style, 0);
                    break;
                case >= 40 and <= 47:
                    style = WithBackground(style, Palette + (ulong)(p - 40));
                    break;
                case 49:
                    style = WithBackground(style, 0);
                    break;
                case >= 90 and <= 97:
                    style = WithForeground(style, Palette + (ulong)(p - 90 + 8));
                    break;
                case >= 100 and <= 107:
                    style = WithBackground(style, Palette + (ulong)(p - 100 + 8));
                    break;
                case 38 or 48:
                    int used = Extended(parameters[(i + 1)..], colons >> (i + 1), out ulong colour);
                    if (colour != ulong.MaxValue)
                    {
                        style = p == 38 ? WithForeground(style, colour) : WithBackground(style, colour);
                    }

                    i += used;
                    break;
            }
        }

        return style;
    }

    private static bool IsSub(int colons, int index) => index < 32 && ((colons >> index) & 1) != 0;

    /// <summary>
    /// The colour after 38 or 48: <c>5;n</c>, <c>2;r;g;b</c>, or their colon forms (<c>2:r:g:b</c> or
    /// <c>2::r:g:b</c> with a colour space). Returns the parameters used; <paramref name="colour"/> is
    /// <see cref="ulong.MaxValue"/> when they name none.
    /// </summary>
    private static int Extended(ReadOnlySpan<int> rest, int colons, out ulong colour)
    {
        colour = ulong.MaxValue;
        if (rest.IsEmpty)
        {
            return 0;
        }

        bool sub = IsSub(colons, 0);
        int count = 1;
        if (sub)
        {
            while (count < rest.Length && IsSub(colons, count))
            {
                count++;
            }
        }

        switch (rest[0])
        {
            case 5 when (sub ? count : rest.Length) >= 2:
                colour = Palette + (ulong)Math.Min(rest[1], 255);
                return sub ? count : 2;
            case 2:
                // Colon form with a colour space: 2:cs:r:g:b (5 values); without it and in the semicolon form: 2;r;g;b.
                int first = sub && count >= 5 ? 2 : 1;
                if ((sub ? count : rest.Length) < first + 3)
                {
                    return sub ? count : rest.Length;
                }

                colour = Rgb + ((ulong)Math.Min(rest[first], 255) << 16) + ((ulong)Math.Min(rest[first + 1], 255) << 8) + (ulong)Math.Min(rest[first + 2], 255);
                return sub ? count : first + 3;
            default:
                return sub ? count : 1;
        }
    }

    /// <summary>The SGR parameters that set <paramref name="style"/> from the default (link left out), e.g. <c>1;31</c>; empty for none.</summary>
    public static string Sgr(ulong style)
    {
        var sgr = new StringBuilder(16);
        Flag(sgr, style, Bold, "1");
        Flag(sgr, style, Italic, "3");
        Flag(sgr, style, Underline, "4");
        Flag(sgr, style, Inverse, "7");
        Colour(sgr, Foreground(style), 30, 90, 38);
        Colour(sgr, Background(style), 40, 100, 48);
        return sgr.ToString();
    }

    private static void Flag(StringBuilder sgr, ulong style, ulong flag, string code)
    {
        if ((style & flag) != 0)
        {
            Separate(sgr).Append(code);
        }
    }

    private static void Colour(StringBuilder sgr, ulong colour, int basic, int bright, int extended)
    {
        if (colour == 0)
        {
            return;
        }

        var inv = CultureInfo.InvariantCulture;
        ulong value = colour & 0xFFFFFF;
        if ((colour & Rgb) != 0)
        {
            Separate(sgr).Append(inv, $"{extended};2;{value >> 16};{(value >> 8) & 0xFF};{value & 0xFF}");
        }
        else if (value < 8)
        {
            Separate(sgr).Append(basic + (int)value);
        }
        else if (value < 16)
        {
            Separate(sgr).Append(bright + (int)value - 8);
        }
        else
        {
            Separate(sgr).Append(inv, $"{extended};5;{value}");
        }
    }

    private static StringBuilder Separate(StringBuilder sgr) => sgr.Length > 0 ? sgr.Append(';') : sgr;
}
