using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// Tells a stored log that differs from the golden only because the storing rule let lines go before their final state
/// (SPEC §2: after 30 s without change, or a first frame stored at its line feeds when a read ended before the
/// program's first redraw) from one that is wrong. Both depend on when the job's reads happen, so on machine load; the
/// recorded reads themselves are checked exactly by the in-process replay.
/// </summary>
/// <remarks>
/// The difference is only early storing when the golden's lines appear in the stored log in order, and every other
/// stored line is a line the screen showed at some moment of the capture: a state of the screen after some byte,
/// which is what a read ending there lets the rule store. A line missing, changed, or never on the screen is a real
/// difference.
/// </remarks>
internal static class EarlyStoredLines
{
    /// <summary>The stored lines that are earlier states of the screen, or null when the difference is a real one.</summary>
    public static IReadOnlyList<string>? Explain(string golden, string stored, byte[] capture)
    {
        var want = Lines(golden);
        var got = Lines(stored);
        var extra = new List<string>();
        int next = 0;
        foreach (var line in got)
        {
            if (next < want.Count && line == want[next])
            {
                next++;
            }
            else
            {
                extra.Add(line);
            }
        }

        if (next < want.Count)
        {
            return null;
        }

        var shown = LinesEverShown(capture);
        return extra.All(shown.Contains) ? extra : null;
    }

    /// <summary>Every line the screen showed, live or stored, after each byte of <paramref name="capture"/>.</summary>
    private static HashSet<string> LinesEverShown(byte[] capture)
    {
        var processor = new TerminalProcessor();
        var stored = new ArrayBufferWriter<byte>();
        var live = new ArrayBufferWriter<byte>();
        var shown = new HashSet<string>(StringComparer.Ordinal) { "" };
        for (int i = 0; i < capture.Length; i++)
        {
            processor.Process(capture.AsSpan(i, 1), stored);
            live.ResetWrittenCount();
            if (processor.WriteLive(live))
            {
                shown.UnionWith(Encoding.UTF8.GetString(live.WrittenSpan).Split('\n'));
            }
        }

        processor.Finish(stored);
        shown.UnionWith(Lines(Encoding.UTF8.GetString(stored.WrittenSpan)));
        return shown;
    }

    private static List<string> Lines(string text) =>
        [.. text.EndsWith('\n') ? text[..^1].Split('\n') : text.Length == 0 ? [] : text.Split('\n')];
}
