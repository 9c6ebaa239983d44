using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs.Screen;

namespace LogQuota.Runner.Logs;

/// <summary>
/// What <see cref="TerminalProcessor"/>'s shortcut may copy without the screen: a plain line, whose stored text is its
/// bytes with a few sequences left out, and a read that holds nothing able to redraw a line already passed.
/// </summary>
/// <remarks>
/// The sequences a plain line may hold change nothing the screen stores for it: SGR (colours), EL 0 (erase to the end
/// of the line: the cursor stands after everything written, so only blanks go), OSC strings (titles, hyperlinks), and
/// hiding the cursor as long as it is shown again on the same line.
/// </remarks>
internal static class PlainLines
{
    private const byte Esc = 0x1B;
    private const int MaxOscBytes = 4096;

    private static readonly SearchValues<byte> s_redrawStarts = SearchValues.Create(Esc, (byte)'\b', (byte)'\r');
    private static readonly SearchValues<byte> s_sgrParameters = SearchValues.Create("0123456789;:"u8);

    private static ReadOnlySpan<byte> ShowCursor => "\u001b[?25h"u8;

    /// <summary>
    /// True when <paramref name="input"/> holds a sequence that may move the cursor or hold lines (anything but those
    /// of a plain line), a backspace, or a carriage return not followed by <c>\n</c>.
    /// </summary>
    public static bool MayRedraw(ReadOnlySpan<byte> input)
    {
        for (int at = input.IndexOfAny(s_redrawStarts); at >= 0; at = input.IndexOfAny(s_redrawStarts))
        {
            int skip = input[at] switch
            {
                (byte)'\r' => at + 1 < input.Length && input[at + 1] == '\n' ? 2 : 0,
                Esc => HarmlessLength(input[at..], out bool hides) is var length && hides && !ShownAgainOnTheLine(input[(at + length)..]) ? 0 : length,
                _ => 0,
            };
            if (skip == 0)
            {
                // A harmless sequence cut short by the end of the read redraws nothing in this read.
                return !(input[at] == Esc && IsHarmlessPrefix(input[at..]));
            }

            input = input[(at + skip)..];
        }

        return false;
    }

    /// <summary>
    /// Copies a plain line's visible text to <paramref name="visible"/> — printable ASCII and UTF-8 (see
    /// <see cref="Utf8Length"/>), the harmless sequences left out, trailing spaces trimmed — in one pass; false when the
    /// line holds anything else, leaves the cursor hidden, or its <c>\r\n</c> (or, where a new line returns the
    /// carriage, its <c>\n</c>) is missing.
    /// </summary>
    public static bool TryVisibleText(ReadOnlySpan<byte> line, bool newLineReturns, Span<byte> visible, out int length)
    {
        length = 0;
        var text = line[..^1];
        if (!text.IsEmpty && text[^1] == '\r')
        {
            text = text[..^1];
        }
        else if (!newLineReturns)
        {
            return false;
        }

        if (text.Length > visible.Length)
        {
            return false;
        }

        int written = 0;
        int marks = 0;
        bool afterSequence = false;
        bool hidden = false;
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
            bool sequence = text[other] == Esc;
            int skip;
            if (sequence)
            {
                skip = HarmlessLength(text[other..], out bool hides);
                hidden = hides || (hidden && !text[other..].StartsWith(ShowCursor));
            }
            else
            {
                skip = standalone && StartsWithMark(text[other..]) ? 0 : Utf8Length(text[other..], ref marks);
                if (skip > 0)
                {
                    text.Slice(other, skip).CopyTo(visible[written..]);
                    written += skip;
                }
            }

            if (skip == 0)
            {
                return false;
            }

            afterSequence = sequence;
            text = text[(other + skip)..];
        }

        while (written > 0 && visible[written - 1] == ' ')
        {
            written--;
        }

        length = written;
        return !hidden;
    }

    /// <summary>
    /// The length of a sequence at the start of <paramref name="input"/> that changes nothing stored for a plain line
    /// (SGR, EL 0, an OSC string ended by BEL or ST, a lone ST, DECTCEM), else 0; <paramref name="hides"/> tells it hid the cursor.
    /// </summary>
    private static int HarmlessLength(ReadOnlySpan<byte> input, out bool hides)
    {
        hides = false;
        if (input.Length >= 2 && input[0] == Esc && input[1] == '\\')
        {
            return 2; // ST, ending a string that a read before this one began
        }

        if (input.Length < 3 || input[0] != Esc)
        {
            return 0;
        }

        if (input[1] == ']')
        {
            int end = input[2..Math.Min(input.Length, MaxOscBytes)].IndexOfAny((byte)0x07, Esc, (byte)0x18);
            if (end < 0 || input[2 + end] == 0x18)
            {
                return 0;
            }

            end += 2;
            return input[end] == 0x07 ? end + 1 : end + 1 < input.Length && input[end + 1] == '\\' ? end + 2 : 0;
        }

        if (input[1] != '[')
        {
            return 0;
        }

        if (input[2..].StartsWith("?25h"u8))
        {
            return 6;
        }

        if (input[2..].StartsWith("?25l"u8))
        {
            hides = true;
            return 6;
        }

        if (input[2] == 'K' || input[2..].StartsWith("0K"u8))
        {
            return input[2] == 'K' ? 3 : 4;
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

    /// <summary>True when <paramref name="input"/> is the unfinished start of a sequence <see cref="HarmlessLength"/> would take.</summary>
    private static bool IsHarmlessPrefix(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return true;
        }

        if (input[1] == ']')
        {
            int end = input[2..].IndexOfAny((byte)0x07, Esc, (byte)0x18);
            return input.Length < MaxOscBytes && (end < 0 || (input[2 + end] == Esc && 2 + end == input.Length - 1));
        }

        if (input[1] != '[' || input.Length > 34)
        {
            return false;
        }

        var rest = input[2..];
        return "?25h"u8.StartsWith(rest) || "?25l"u8.StartsWith(rest) || "0K"u8.StartsWith(rest)
            || rest.IndexOfAnyExcept(s_sgrParameters) < 0;
    }

    private static bool ShownAgainOnTheLine(ReadOnlySpan<byte> rest)
    {
        int lineEnd = rest.IndexOf((byte)'\n');
        return (lineEnd < 0 ? rest : rest[..lineEnd]).IndexOf(ShowCursor) >= 0;
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
}
