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
        // Every C0 control but \b \n \r ESC BEL, and DEL, as a screen shows them: nothing, except HT (to column 8),
        // VT and FF (line feeds, so "b" lands two rows down in column 8).
        ["control bytes"] = (
            @"printf 'a\000\001\002\003\004\005\006\011\013\014\016\017\020\021\022\023\024\025\026\027\030\031\032\034\035\036\037\177b\n'",
            Encoding.ASCII.GetBytes("a\n\n        b\n")),

        // Stray bytes, an overlong '/', a UTF-16 surrogate, a sequence cut short right before the line end.
        ["invalid UTF-8"] = (
            @"printf 'x\377\376y\300\257z\355\240\200w\342\202\n'",
            [(byte)'x', 0xFF, 0xFE, (byte)'y', 0xC0, 0xAF, (byte)'z', 0xED, 0xA0, 0x80, (byte)'w', 0xE2, 0x82, (byte)'\n']),

        // The job's last bytes: no newline, and a character cut short (stored as a line when the job ends).
        ["unterminated invalid tail"] = (@"printf 'tail\342\202'", [.. "tail"u8, 0xE2, 0x82, (byte)'\n']),

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

        // A logical line past 32 KiB is stored in 32 KiB pieces, each a line of its own (SPEC §2); the last one
        // loses its trailing space, as every stored line does.
        text.Length = HugeLineBytes;
        var line = text.ToString().TrimEnd(' ');
        var pieces = new StringBuilder(line.Length + (line.Length / (32 * 1024)) + 1);
        for (int i = 0; i < line.Length; i += 32 * 1024)
        {
            pieces.Append(line.AsSpan(i, Math.Min(32 * 1024, line.Length - i))).Append('\n');
        }

        return Encoding.ASCII.GetBytes(pieces.ToString());
    }

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

    /// <summary>Nothing is ever glued: every stored event ends with a whole line, and a long line arrives as it is written.</summary>
    public static void AssertStoredInWholeLines(List<byte[]> events, int total)
    {
        const int Piece = 32 * 1024;
        Assert.All(events, e => Assert.True(e.Length > 0 && e[^1] == (byte)'\n', "an event ends inside a line"));
        Assert.True(events.Count >= total / Piece / 64, $"{total} bytes arrived in only {events.Count} events");
    }

    /// <summary>Where two byte strings first differ, for a failure message that does not print 10 MB.</summary>
    public static string Difference(byte[] expected, byte[] actual)
    {
        var at = expected.AsSpan().CommonPrefixLength(actual);
        string Around(byte[] bytes) => Convert.ToHexString(bytes.AsSpan(Math.Max(0, at - 8), Math.Min(24, Math.Max(0, bytes.Length - Math.Max(0, at - 8)))));
        return $"expected {expected.Length} bytes, got {actual.Length}; first difference at {at}: expected …{Around(expected)}…, got …{Around(actual)}…";
    }
}
