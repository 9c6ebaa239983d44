using System.Text;

namespace LogQuota.Runner.Tests;

/// <summary>
/// Outputs a job may write that are data, not text for a screen: control bytes the terminal processor does not act on,
/// invalid UTF-8, markup, and one 10 MB line. Each shell command prints bytes whose stored form is known exactly.
/// </summary>
public static class HostileOutputs
{
    /// <summary>The largest line, written without a newline until its very end.</summary>
    public const int HugeLineBytes = 10 * 1024 * 1024;

    public static readonly Dictionary<string, (string Command, byte[] Stored)> All = new(StringComparer.Ordinal)
    {
        // Every C0 control but those the processor interprets (\b \n \r ESC BEL), and DEL: kept as written.
        ["control bytes"] = (
            @"printf 'a\000\001\002\003\004\005\006\011\013\014\016\017\020\021\022\023\024\025\026\027\030\031\032\034\035\036\037\177b\n'",
            [(byte)'a', 0, 1, 2, 3, 4, 5, 6, 9, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 28, 29, 30, 31, 127, (byte)'b', (byte)'\n']),

        // Stray bytes, an overlong '/', a UTF-16 surrogate, a sequence cut short right before the line end.
        ["invalid UTF-8"] = (
            @"printf 'x\377\376y\300\257z\355\240\200w\342\202\n'",
            [(byte)'x', 0xFF, 0xFE, (byte)'y', 0xC0, 0xAF, (byte)'z', 0xED, 0xA0, 0x80, (byte)'w', 0xE2, 0x82, (byte)'\n']),

        // The job's last bytes: no newline, and a character cut short.
        ["unterminated invalid tail"] = (@"printf 'tail\342\202'", [.. "tail"u8, 0xE2, 0x82]),

        ["HTML and script"] = (
            """printf '%s\n' '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;</pre><!--'""",
            Encoding.UTF8.GetBytes("<script>alert(\"x\")</script><img src=x onerror=alert(1)>&amp;</pre><!--\n")),

        // 10 MiB of "1 2 3 ... " with no newline until the end.
        ["10 MB line"] = ($"seq 1 1500000 | tr '\\n' ' ' | head -c {HugeLineBytes}; printf '\\n'", HugeLine()),
    };

    private static byte[] HugeLine()
    {
        var text = new StringBuilder(HugeLineBytes + 16);
        for (var i = 1; text.Length < HugeLineBytes; i++)
        {
            text.Append(i).Append(' ');
        }

        text.Length = HugeLineBytes;
        return Encoding.ASCII.GetBytes(text.Append('\n').ToString());
    }

    /// <summary>
    /// An unfinished line is stored each time it grows past 32 KiB (SPEC §2), so inside a long line every event ends
    /// on a 32 KiB boundary: an event holds one or more whole pieces (the runner groups what one read produced), never
    /// a piece cut elsewhere, and the line is not held back until its end.
    /// </summary>
    /// <summary>Every output, under a pseudo-terminal and on a pipe.</summary>
    public static TheoryData<string, bool> InBothModes()
    {
        var cases = new TheoryData<string, bool>();
        foreach (var name in All.Keys)
        {
            cases.Add(name, true);
            cases.Add(name, false);
        }

        return cases;
    }

    public static void AssertStoredInWhole32KiBPieces(List<int> eventLengths, int total)
    {
        const int Piece = 32 * 1024;
        Assert.All(eventLengths, l => Assert.True(l > 0));
        var end = 0L;
        foreach (var length in eventLengths.SkipLast(1))
        {
            end += length;
            Assert.True(end % Piece == 0, $"an event ends at byte {end}, inside a 32 KiB piece ({string.Join(',', eventLengths)})");
        }

        Assert.True(eventLengths.Count >= total / Piece / 64, $"{total} bytes arrived in only {eventLengths.Count} events");
    }

    /// <summary>Where two byte strings first differ, for a failure message that does not print 10 MB.</summary>
    public static string Difference(byte[] expected, byte[] actual)
    {
        var at = expected.AsSpan().CommonPrefixLength(actual);
        string Around(byte[] bytes) => Convert.ToHexString(bytes.AsSpan(Math.Max(0, at - 8), Math.Min(24, Math.Max(0, bytes.Length - Math.Max(0, at - 8)))));
        return $"expected {expected.Length} bytes, got {actual.Length}; first difference at {at}: expected …{Around(expected)}…, got …{Around(actual)}…";
    }
}
