using System.Text;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// How far back a program redraws, and so which lines stay live, from minimal inputs of the displays real programs draw:
/// a block redrawn with one-row moves (tqdm with many bars, Jest's status block, log-update, <c>tput cuu1</c>), lines
/// announced one read at a time and redrawn later (docker's layer lines), a dashboard homing with <c>CSI H</c>, and a
/// <c>clear</c> between phases. Each input is stored the same in one read and in the reads the program wrote.
/// </summary>
public sealed class RedrawReachTests
{
    private const string Up = "\u001b[A";

    [Fact]
    public void ABlockRedrawnWithOneRowMoves_IsStoredOnce_InItsLastFrame()
    {
        // The first frame comes before any redraw, so it is stored as its lines end (the documented first frame).
        var reads = new List<string> { "a0\r\nb0\r\nc0\r\nd0\r\n" };
        for (int frame = 1; frame <= 9; frame++)
        {
            reads.Add(Up + Up + Up + Up + $"a{frame}\r\nb{frame}\r\nc{frame}\r\nd{frame}\r\n");
        }

        reads.Add("done\r\n");

        AssertStoredInEveryCut(reads, "a0\nb0\nc0\nd0\na9\nb9\nc9\nd9\ndone\n");
    }

    [Fact]
    public void LayerLinesAnnouncedOneReadAtATime_AreStoredOnce_InTheirLastState()
    {
        // docker's jsonmessage: a new layer gets "\n", then the cursor goes up to write it and down again; an update
        // goes up by the layer's distance from the bottom.
        var reads = new List<string> { "latest: Pulling from library/demo\r\n" };
        string[] layers = ["1111", "2222", "3333", "4444", "5555", "6666", "7777"];
        foreach (var layer in layers)
        {
            reads.Add($"\n{Up}\u001b[2K\r{layer}: Pulling fs layer \r\u001b[1B");
        }

        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < layers.Length; i++)
            {
                int diff = layers.Length - i;
                string state = step == 2 ? "Pull complete" : $"Downloading {step}";
                reads.Add($"\u001b[{diff}A\u001b[2K\r{layers[i]}: {state} \r\u001b[{diff}B");
            }
        }

        reads.Add("Digest: sha256:abc\r\nStatus: Downloaded newer image\r\n");

        AssertStoredInEveryCut(reads,
            "latest: Pulling from library/demo\n" + string.Concat(layers.Select(l => $"{l}: Pull complete\n"))
            + "Digest: sha256:abc\nStatus: Downloaded newer image\n");
    }

    [Fact]
    public void ADashboardHomingWithCsiH_KeepsItsUnchangedHeaderRow_InItsLastFrame()
    {
        // A dashboard that clears the screen once, then homes the cursor for every frame and rewrites each row; the
        // header row never changes.
        var reads = new List<string> { "\u001b[H\u001b[2J" };
        for (int frame = 0; frame < 6; frame++)
        {
            reads.Add("\u001b[H" + "NAME     STATUS\r\n" + $"web      {frame * 10}%\u001b[K\r\n" + $"worker   {frame * 20}%\u001b[K\r\n");
        }

        reads.Add("\r\nstopped\r\n");

        AssertStoredInEveryCut(reads, "NAME     STATUS\nweb      50%\nworker   100%\n\nstopped\n");
    }

    [Fact]
    public void AScriptCallingClearBetweenPhases_KeepsEveryLineItWrote_HoweverItIsRead()
    {
        // `clear` writes CSI H CSI 2J CSI 3J. Lines a program wrote without redrawing were stored as they ended, and
        // erasing the screen never takes them out of the log: the rule does not depend on when the reads end.
        string phase1 = string.Concat(Enumerable.Range(1, 60).Select(i => $"build {i}\r\n"));
        string phase2 = string.Concat(Enumerable.Range(1, 5).Select(i => $"test {i}\r\n"));
        var reads = new List<string> { phase1, "\u001b[H\u001b[2J\u001b[3J", phase2 };

        AssertStoredInEveryCut(reads,
            string.Concat(Enumerable.Range(1, 60).Select(i => $"build {i}\n")) + string.Concat(Enumerable.Range(1, 5).Select(i => $"test {i}\n")));
    }

    /// <summary>Stores the reads as written, all in one read, and one byte per read: each must give <paramref name="expected"/>.</summary>
    private static void AssertStoredInEveryCut(IReadOnlyList<string> reads, string expected)
    {
        byte[] input = Encoding.UTF8.GetBytes(string.Concat(reads));
        var asWritten = new List<int>();
        foreach (var read in reads.SkipLast(1))
        {
            asWritten.Add((asWritten.Count > 0 ? asWritten[^1] : 0) + Encoding.UTF8.GetByteCount(read));
        }

        foreach (var (how, splits) in new (string, int[])[]
        {
            ("one read", []),
            ("the reads the program wrote", [.. asWritten]),
            ("one byte per read", [.. Enumerable.Range(1, input.Length - 1)]),
        })
        {
            string? diff = Oracle.Diff(expected, Encoding.UTF8.GetString(Oracle.Store(input, splits)));
            Assert.True(diff is null, $"in {how}: {diff}");
        }
    }
}
