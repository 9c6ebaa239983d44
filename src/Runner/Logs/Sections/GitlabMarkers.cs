using System.Buffers;
using System.Text;

namespace LogQuota.Runner.Logs.Sections;

/// <summary>A GitLab section marker read from a job's raw output.</summary>
/// <param name="Start">True for <c>section_start</c>, false for <c>section_end</c>.</param>
/// <param name="Name">The section's name (letters, digits, <c>_ . -</c>; at most <see cref="GitlabMarkers.MaxName"/>).</param>
/// <param name="Collapsed">The start asked <c>[collapsed=true]</c>.</param>
internal readonly record struct GitlabMarker(bool Start, string Name, bool Collapsed);

/// <summary>Receives a job's raw output split at GitLab's section markers, in order.</summary>
internal interface IGitlabMarkerSink
{
    /// <summary>Raw bytes for the terminal.</summary>
    void Text(ReadOnlySpan<byte> text);

    /// <summary>A marker, taken out of the stream.</summary>
    void Marker(GitlabMarker marker);
}

/// <summary>
/// Takes GitLab's section markers out of a job's raw output, before the terminal: <c>ESC[0Ksection_start:TS:NAME[OPTIONS]</c>
/// and <c>ESC[0Ksection_end:TS:NAME</c>, each followed by <c>\r ESC[0K</c>. They must be read here because on the
/// screen the marker erases itself (that <c>\r ESC[0K</c>), so the stored text never holds it. A marker that begins a
/// line is taken out with its <c>\r ESC[0K</c> and, when it is the whole line, with its line end, so it leaves no empty
/// line; one in the middle of a line leaves its <c>\r ESC[0K</c>, which erases the line as a terminal would.
/// </summary>
/// <remarks>
/// A marker split across reads is held (at most <see cref="MaxMarker"/> bytes) until the next read completes or refutes
/// it. Anything that does not parse as a marker (a name too long, a bad character) passes to the terminal unchanged.
/// The marker's own time stamp is ignored: a section's times are the runner's.
/// </remarks>
internal sealed class GitlabMarkers
{
    /// <summary>Longest section name recognised (GitLab's names are short identifiers).</summary>
    public const int MaxName = 64;

    private const int MaxDigits = 20;
    private const int MaxOptions = 64;

    /// <summary>The longest marker, held whole when a read ends inside it.</summary>
    public const int MaxMarker = 19 + MaxDigits + 1 + MaxName + MaxOptions + 2 + 5;

    private static ReadOnlySpan<byte> Lead => "\e[0Ksection_"u8;

    private static ReadOnlySpan<byte> Suffix => "\r\e[0K"u8;

    private readonly byte[] _held = new byte[MaxMarker];
    private readonly ArrayBufferWriter<byte> _joined = new(4 * 1024);
    private int _heldLength;

    /// <summary>The last byte passed on ended a line (or nothing was yet): a marker here is a line of its own.</summary>
    private bool _atLineStart = true;

    /// <summary>A whole-line marker was just taken out: its line end (<c>\n</c> or <c>\r\n</c>) goes with it.</summary>
    private bool _dropLineEnd;

    /// <summary>Passes <paramref name="input"/> on to <paramref name="sink"/> as text and markers.</summary>
    public void Scan(ReadOnlySpan<byte> input, IGitlabMarkerSink sink)
    {
        if (_heldLength > 0)
        {
            _joined.ResetWrittenCount();
            _joined.Write(_held.AsSpan(0, _heldLength));
            _joined.Write(input);
            _heldLength = 0;
            ScanJoined(_joined.WrittenSpan, sink);
            return;
        }

        ScanJoined(input, sink);
    }

    /// <summary>The job has ended: bytes held for a marker that never completed are text after all.</summary>
    public void Flush(IGitlabMarkerSink sink)
    {
        if (_heldLength > 0)
        {
            var held = _held.AsSpan(0, _heldLength);
            _heldLength = 0;
            Emit(held, sink);
        }
    }

    private void ScanJoined(ReadOnlySpan<byte> input, IGitlabMarkerSink sink)
    {
        input = DropLineEnd(input);
        while (!input.IsEmpty)
        {
            var at = input.IndexOf(Lead);
            if (at < 0)
            {
                var partial = PartialLeadAtEnd(input);
                Emit(input[..^partial], sink);
                Hold(input[^partial..]);
                return;
            }

            Emit(input[..at], sink);
            input = input[at..];
            var (length, marker) = Parse(input);
            if (length == 0)
            {
                // Not a marker: its escape goes to the terminal, and the search goes on after it.
                Emit(input[..1], sink);
                input = input[1..];
                continue;
            }

            if (length < 0)
            {
                Hold(input);
                return;
            }

            var wholeLine = _atLineStart;
            input = input[length..];
            if (wholeLine && input.StartsWith(Suffix))
            {
                input = input[Suffix.Length..];
                _dropLineEnd = true;
                input = DropLineEnd(input);
            }

            sink.Marker(marker);
        }
    }

    private ReadOnlySpan<byte> DropLineEnd(ReadOnlySpan<byte> input)
    {
        if (!_dropLineEnd || input.IsEmpty)
        {
            return input;
        }

        if (input[0] == '\r' && input.Length == 1)
        {
            return input[1..]; // a lone \r at a line's start moves nothing; the \n may follow in the next read
        }

        _dropLineEnd = false;
        return input.StartsWith("\r\n"u8) ? input[2..] : input[0] == '\n' ? input[1..] : input;
    }

    private void Emit(ReadOnlySpan<byte> text, IGitlabMarkerSink sink)
    {
        if (text.IsEmpty)
        {
            return;
        }

        _dropLineEnd = false;
        _atLineStart = text[^1] == '\n';
        sink.Text(text);
    }

    private void Hold(ReadOnlySpan<byte> partial)
    {
        partial.CopyTo(_held);
        _heldLength = partial.Length;
    }

    /// <summary>How many bytes at the end of <paramref name="input"/> may begin <see cref="Lead"/>.</summary>
    private static int PartialLeadAtEnd(ReadOnlySpan<byte> input)
    {
        var from = Math.Max(0, input.Length - (Lead.Length - 1));
        var escape = input[from..].LastIndexOf((byte)'\e');
        if (escape < 0)
        {
            return 0;
        }

        var tail = input[(from + escape)..];
        return Lead.StartsWith(tail) ? tail.Length : 0;
    }

    /// <summary>
    /// The marker at the start of <paramref name="input"/> (which begins with <see cref="Lead"/>): its length up to and
    /// without its <c>\r ESC[0K</c>; 0 when it is no marker; -1 when the input ends before that is known.
    /// </summary>
    private static (int Length, GitlabMarker Marker) Parse(ReadOnlySpan<byte> input)
    {
        var at = Lead.Length;
        bool start;
        if (Matches(input, at, "start:"u8, out var known))
        {
            start = true;
            at += 6;
        }
        else if (known && Matches(input, at, "end:"u8, out known))
        {
            start = false;
            at += 4;
        }
        else
        {
            return (known ? 0 : -1, default);
        }

        var digits = Run(input, at, MaxDigits, b => b is >= (byte)'0' and <= (byte)'9');
        at += digits;
        if (at >= input.Length)
        {
            return (-1, default);
        }

        if (digits == 0 || input[at] != ':')
        {
            return (0, default);
        }

        at++;
        var nameStart = at;
        var name = Run(input, at, MaxName + 1, IsNameByte);
        at += name;
        if (at >= input.Length)
        {
            return (name > MaxName ? 0 : -1, default);
        }

        if (name == 0 || name > MaxName)
        {
            return (0, default);
        }

        var nameText = Encoding.ASCII.GetString(input.Slice(nameStart, name));
        var collapsed = false;
        if (start && input[at] == '[')
        {
            var close = input[(at + 1)..Math.Min(input.Length, at + 2 + MaxOptions)].IndexOf((byte)']');
            if (close < 0)
            {
                return (input.Length - at - 1 > MaxOptions ? 0 : -1, default);
            }

            var options = input.Slice(at + 1, close);
            if (options.ContainsAnyInRange((byte)0, (byte)31))
            {
                return (0, default);
            }

            collapsed = Encoding.ASCII.GetString(options).Split(',').Any(o => o.Trim() == "collapsed=true");
            at += close + 2;
        }

        if (!Matches(input, at, Suffix, out known))
        {
            return (known ? 0 : -1, default);
        }

        return (at, new GitlabMarker(start, nameText, collapsed));
    }

    /// <summary>Whether <paramref name="expected"/> is at <paramref name="at"/>; <paramref name="known"/> is false when the input ends first (a prefix matched).</summary>
    private static bool Matches(ReadOnlySpan<byte> input, int at, ReadOnlySpan<byte> expected, out bool known)
    {
        var available = input[Math.Min(at, input.Length)..];
        if (available.Length < expected.Length)
        {
            known = !expected.StartsWith(available);
            return false;
        }

        known = true;
        return available.StartsWith(expected);
    }

    private static int Run(ReadOnlySpan<byte> input, int at, int max, Func<byte, bool> accepts)
    {
        var length = 0;
        while (at + length < input.Length && length < max && accepts(input[at + length]))
        {
            length++;
        }

        return length;
    }

    private static bool IsNameByte(byte b) =>
        b is >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z' or >= (byte)'0' and <= (byte)'9' or (byte)'_' or (byte)'.' or (byte)'-';
}
