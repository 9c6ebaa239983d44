using System.Buffers;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Logs;

/// <summary>
/// Reading a stored message with its <see cref="LogStyles"/>: whether the runs are well formed, and the text with its
/// SGR and OSC 8 sequences rebuilt (<c>format=ansi</c>, the CLI on a terminal). Every sequence written comes from
/// checked data: SGR parameters are digits and <c>;</c>, links printable ASCII with an allowed scheme, so a stored
/// style can never carry a control sequence of its own to a reader's terminal.
/// </summary>
public static class StyledText
{
    /// <summary>The most styles one event may carry (a 32 KiB line of one-cell styles is far fewer runs' worth).</summary>
    public const int MaxStyles = 4096;

    /// <summary>The longest SGR parameter text of one style (every attribute and two 24-bit colours fit in 50).</summary>
    public const int MaxSgrLength = 64;

    /// <summary>The longest link target kept.</summary>
    public const int MaxLinkLength = 2048;

    private static readonly string[] AllowedSchemes = ["http", "https", "mailto"];

    private static readonly SearchValues<char> SgrCharacters = SearchValues.Create("0123456789;");

    private static ReadOnlySpan<byte> Reset => "\u001b[0m"u8;

    private static ReadOnlySpan<byte> LinkEnd => "\u001b]8;;\u001b\\"u8;

    /// <summary>
    /// True when <paramref name="styles"/> is well formed for a message of <paramref name="messageLength"/> bytes:
    /// triples in order, within the message, each naming a style that exists, with only safe SGR text and allowed links.
    /// </summary>
    public static bool IsValid(LogStyles styles, int messageLength)
    {
        ArgumentNullException.ThrowIfNull(styles);
        if (styles.Styles is null || styles.Runs is null || styles.Styles.Count == 0 || styles.Styles.Count > MaxStyles
            || styles.Runs.Count == 0 || styles.Runs.Count % 3 != 0)
        {
            return false;
        }

        foreach (var style in styles.Styles)
        {
            if (style is null || !IsSafeSgr(style.Sgr) || (style.Link is not null && !IsAllowedLink(style.Link)))
            {
                return false;
            }
        }

        long end = 0;
        for (int i = 0; i < styles.Runs.Count; i += 3)
        {
            int start = styles.Runs[i], length = styles.Runs[i + 1], index = styles.Runs[i + 2];
            if (start < end || length <= 0 || (long)start + length > messageLength || index < 0 || index >= styles.Styles.Count)
            {
                return false;
            }

            end = (long)start + length;
        }

        return true;
    }

    /// <summary>SGR parameter text: digits and <c>;</c> only, at most <see cref="MaxSgrLength"/>.</summary>
    public static bool IsSafeSgr(string? sgr) =>
        sgr is not null && sgr.Length <= MaxSgrLength && sgr.AsSpan().IndexOfAnyExcept(SgrCharacters) < 0;

    /// <summary>A link target: printable ASCII without spaces, at most <see cref="MaxLinkLength"/>, scheme http, https or mailto.</summary>
    public static bool IsAllowedLink(string? link)
    {
        if (string.IsNullOrEmpty(link) || link.Length > MaxLinkLength || link.AsSpan().IndexOfAnyExceptInRange('!', '~') >= 0)
        {
            return false;
        }

        int colon = link.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && AllowedSchemes.Contains(link[..colon], StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Writes bytes <paramref name="from"/>..<paramref name="to"/> of <paramref name="message"/> with the SGR and OSC 8
    /// sequences of the runs over them: each run opens its style and closes it again (<c>ESC[0m</c>), so every line
    /// starts and ends in the default style, whatever is cut around it. Null or invalid styles: the bytes as they are.
    /// </summary>
    public static void WriteAnsi(ReadOnlySpan<byte> message, LogStyles? styles, int from, int to, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int at = from;
        if (styles is not null)
        {
            var runs = styles.Runs;
            for (int i = 0; i < runs.Count; i += 3)
            {
                int start = Math.Max(runs[i], from);
                int end = Math.Min(runs[i] + runs[i + 1], to);
                if (end <= start)
                {
                    continue;
                }

                output.Write(message[at..start]);
                var style = styles.Styles[runs[i + 2]];
                Open(style, output);
                output.Write(message[start..end]);
                Close(style, output);
                at = end;
            }
        }

        output.Write(message[at..to]);
    }

    /// <summary>
    /// Writes one stored message as a text view shows it: with <paramref name="styles"/> (null: none) rebuilt as
    /// sequences, and with <paramref name="stamp"/> (null: none) before each line that starts in it.
    /// <paramref name="atLineStart"/> carries whether the previous message ended a line.
    /// </summary>
    public static void WriteLines(ReadOnlySpan<byte> message, LogStyles? styles, byte[]? stamp, ref bool atLineStart, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        int at = 0;
        while (at < message.Length)
        {
            int newline = message[at..].IndexOf((byte)'\n');
            int end = newline < 0 ? message.Length : at + newline + 1;
            if (atLineStart && stamp is not null)
            {
                output.Write(stamp);
            }

            WriteAnsi(message, styles, at, end, output);
            atLineStart = newline >= 0;
            at = end;
        }
    }

    /// <summary>The prefix of a line stored at <paramref name="time"/> with <c>timestamps=true</c>: ISO 8601 UTC with milliseconds, and a space.</summary>
    public static byte[] Stamp(DateTimeOffset time) =>
        Encoding.ASCII.GetBytes(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z' ", System.Globalization.CultureInfo.InvariantCulture));

    private static void Open(LogStyle style, IBufferWriter<byte> output)
    {
        if (style.Link is { } link)
        {
            output.Write("\u001b]8;;"u8);
            output.Write(Encoding.ASCII.GetBytes(link));
            output.Write("\u001b\\"u8);
        }

        if (style.Sgr.Length > 0)
        {
            output.Write("\u001b["u8);
            output.Write(Encoding.ASCII.GetBytes(style.Sgr));
            output.Write("m"u8);
        }
    }

    private static void Close(LogStyle style, IBufferWriter<byte> output)
    {
        if (style.Sgr.Length > 0)
        {
            output.Write(Reset);
        }

        if (style.Link is not null)
        {
            output.Write(LinkEnd);
        }
    }
}
