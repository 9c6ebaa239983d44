using System.Globalization;
using System.Text;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// Random terminal output from a token grammar, for the differential test against xterm.js: text (ASCII, accented,
/// block elements, CJK, emoji, combining marks), CR, LF, BS, tabs, cursor movement, erase, insert/delete, scrolling,
/// scroll regions, save/restore, the alternate screen, SGR and OSC. The same seed always gives the same bytes.
/// </summary>
/// <remarks>
/// Inputs stay out of the documented exception classes (SPEC §2 and the processor's contract): a case either has
/// no autowrap at all (its cursor column is bounded from above and a line ends before it could reach column 200),
/// or it has wrapping long lines and nothing that moves the cursor back or up (so no logical line longer than the
/// width is redrawn); no line comes near 32 KiB; everything is valid UTF-8; <c>CSI 2J</c> comes only before the
/// first line feed; and nothing shows the cursor (<c>CSI ?25h</c>), so the hidden-cursor variant holds.
/// </remarks>
internal sealed class TerminalInputGenerator(int seed)
{
    private const string Csi = "\e[";

    // Text pieces with their width in cells.
    private static readonly (string Text, int Width)[] s_text =
    [
        ("log", 3), ("step 12/40", 10), ("loss=0.123", 10), (" ", 1), ("  ", 2), ("x", 1), ("0123456789", 10),
        ("é", 1), ("€", 1), ("ü€z", 3), ("█", 1), ("████▏", 5), ("━━━", 3), ("日本", 4), ("語", 2), ("😀", 2),
        ("🚀 ok", 5), ("e\u0301", 1), ("n\u0303o", 2), ("[INFO]", 6), ("|", 1),
    ];

    private static readonly string[] s_styles =
        ["\e[0m", "\e[m", "\e[1m", "\e[31m", "\e[1;32m", "\e[38;5;196m", "\e[48;2;10;20;30m", "\e[38:5:33m", "\e[7m", "\e[22;39m"];

    private readonly Random _random = new(seed);
    private readonly StringBuilder _out = new();
    private int _column;
    private int _savedColumn;
    private bool _lineFeedSeen;

    public int Seed { get; } = seed;

    public byte[] Generate()
    {
        bool wrapping = _random.Next(5) == 0;
        int tokens = _random.Next(8, 60);
        for (int i = 0; i < tokens; i++)
        {
            if (wrapping)
            {
                WrappingToken();
            }
            else
            {
                ScreenToken();
            }
        }

        return Encoding.UTF8.GetBytes(_out.ToString());
    }

    /// <summary>Tokens of a case with long wrapped lines: only forward writing, line ends and invisible sequences.</summary>
    private void WrappingToken()
    {
        switch (_random.Next(10))
        {
            case 0 or 1:
                int width = _random.Next(201, 700);
                var line = new StringBuilder();
                for (int w = 0; w < width;)
                {
                    var (text, cells) = s_text[_random.Next(s_text.Length)];
                    line.Append(text);
                    w += cells;
                }

                _out.Append(line).Append("\r\n");
                break;
            case 2 or 3:
                _out.Append("\r\n");
                break;
            case 4:
                _out.Append(s_styles[_random.Next(s_styles.Length)]);
                break;
            case 5:
                _out.Append("\e]0;title\a");
                break;
            default:
                var (piece, _) = s_text[_random.Next(s_text.Length)];
                _out.Append(piece);
                break;
        }
    }

    /// <summary>Tokens of a case without autowrap: everything that moves, erases, inserts and scrolls.</summary>
    private void ScreenToken()
    {
        int n = _random.Next(4) == 0 ? _random.Next(7, 60) : _random.Next(0, 7);
        switch (_random.Next(40))
        {
            case < 12:
                var (text, width) = s_text[_random.Next(s_text.Length)];
                Text(text, width);
                break;
            case 12 or 13 or 14:
                LineFeed("\r\n", toColumnZero: true);
                break;
            case 15:
                _out.Append('\r');
                _column = 0;
                break;
            case 16:
                LineFeed("\n", toColumnZero: false);
                break;
            case 17:
                _out.Append('\b');
                break;
            case 18:
                Movement("\t", 8);
                break;
            case 19:
                Sequence(Pick("A", "F"), n, toColumnZero: false);
                if (_out[^1] == 'F')
                {
                    _column = 0;
                }

                break;
            case 20:
                // CSI B and CSI E move down within the screen; they never scroll, so they are no line feed.
                Sequence(Pick("B", "E"), n, toColumnZero: false);
                if (_out[^1] == 'E')
                {
                    _column = 0;
                }

                break;
            case 21:
                int column = _random.Next(1, 120);
                _out.Append(Csi).Append(Num(_random.Next(1, 14))).Append(';').Append(Num(column)).Append(Pick("H", "f"));
                _column = column - 1;
                break;
            case 22:
                int absolute = _random.Next(1, 120);
                _out.Append(Csi).Append(Num(absolute)).Append('G');
                _column = absolute - 1;
                break;
            case 23:
                Movement(Csi + Num(n) + "C", Math.Max(n, 1));
                break;
            case 24:
                _out.Append(Csi).Append(Num(n)).Append(Pick("D", "d"));
                break;
            case 25:
                if (_random.Next(2) == 0)
                {
                    _out.Append("\eM");
                }
                else
                {
                    LineFeed(Pick("\eD", "\eE"), toColumnZero: false);
                    if (_out[^1] == 'E')
                    {
                        _column = 0;
                    }
                }

                break;
            case 26:
                _out.Append(Pick("\e7", Csi + "s"));
                SaveColumn();
                break;
            case 27:
                _out.Append(Pick("\e8", Csi + "u"));
                _column = Math.Max(_column, _savedColumn);
                break;
            case 28:
                int mode = _random.Next(_lineFeedSeen ? 2 : 3);
                _out.Append(Csi).Append(Num(mode)).Append('J');
                break;
            case 29:
                _out.Append(Csi).Append(Num(_random.Next(3))).Append('K');
                break;
            case 30:
                _out.Append(Csi).Append(Num(n)).Append(Pick("X", "@", "P"));
                break;
            case 31:
                _out.Append(Csi).Append(Num(n)).Append(Pick("L", "M", "S", "T"));
                break;
            case 32:
                // REP repeats the last character, which may be two cells wide.
                Movement(Csi + Num(n) + "b", 2 * Math.Max(n, 1));
                break;
            case 33:
                int top = _random.Next(3) == 0 ? 1 : _random.Next(1, 40);
                int bottom = _random.Next(top + 1, 51);
                _out.Append(Csi).Append(top).Append(';').Append(bottom).Append('r');
                _column = 0;
                break;
            case 34:
                _out.Append(Csi).Append('r');
                _column = 0;
                break;
            case 35:
                // ?1049h saves the cursor and ?1049l restores it, so it counts as a save and a restore.
                _out.Append(Pick("\e[?1049h", "\e[?1049l", "\e[?1049l"));
                SaveColumn();
                _column = Math.Max(_column, _savedColumn);
                break;
            case 36:
                _out.Append(s_styles[_random.Next(s_styles.Length)]);
                break;
            case 37:
                _out.Append(Pick("\e]0;title\a", "\e]8;;https://example.com/\e\\", "\e]8;;\e\\"));
                break;
            case 38:
                int lines = _random.Next(1, 70);
                for (int i = 0; i < lines; i++)
                {
                    LineFeed(string.Create(CultureInfo.InvariantCulture, $"line {i}\r\n"), toColumnZero: true);
                }

                break;
            default:
                string other = Pick("\e(0lqqk\e(B", "\a", "\e[?25l");
                if (other.Length > 4)
                {
                    Text(other, 4);
                }
                else
                {
                    _out.Append(other);
                }

                break;
        }
    }

    // The column bound after any restore: the largest column ever saved (ESC 7, CSI s and ?1049h save
    // separately, per buffer, so the last save alone is not a bound).
    private void SaveColumn() => _savedColumn = Math.Max(_savedColumn, _column);

    private void Text(string text, int width)
    {
        EnsureRoom(width);
        _out.Append(text);
        _column += width;
    }

    private void Movement(string sequence, int cells)
    {
        EnsureRoom(cells);
        _out.Append(sequence);
        _column += cells;
    }

    private void Sequence(string command, int n, bool toColumnZero)
    {
        _out.Append(Csi).Append(Num(n)).Append(command);
        if (toColumnZero)
        {
            _column = 0;
        }
    }

    private void LineFeed(string sequence, bool toColumnZero)
    {
        _out.Append(sequence);
        _lineFeedSeen = true;
        if (toColumnZero)
        {
            _column = 0;
        }
    }

    /// <summary>Ends the line first when <paramref name="cells"/> more could reach the last columns (and wrap).</summary>
    private void EnsureRoom(int cells)
    {
        if (_column + cells > 190)
        {
            LineFeed("\r\n", toColumnZero: true);
        }
    }

    private string Pick(params string[] choices) => choices[_random.Next(choices.Length)];

    // A parameter of 0 is written as such or left out, as programs do both.
    private string Num(int n) => n == 0 && _random.Next(2) == 0 ? string.Empty : n.ToString(CultureInfo.InvariantCulture);
}
