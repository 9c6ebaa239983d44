using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// Random terminal output (<see cref="TerminalInputGenerator"/>) stored by the processor against xterm.js: fixed seeds
/// whose goldens are committed in <c>random.json</c> (always run), and fresh seeds rendered live by
/// <c>tests/oracle/render.mjs</c> where node and its package are installed.
/// </summary>
/// <remarks>
/// Behind <c>CSI ?25l</c> the processor holds every on-screen line until it scrolls off or the job ends, so the screen
/// alone is compared: the log must equal the golden, in random reads. With the cursor visible, random output often
/// changes lines it wrote before any redraw, which the storing rule stored as written (the documented first frame):
/// there the log must hold every line the emulator shows, and be the same in random reads as in one. Regenerate the goldens after changing the generator with
/// <c>LOGQUOTA_REGENERATE_GOLDENS=1 dotnet test tests/Runner.Tests --filter "FullyQualifiedName~GoldenFile_MatchesTheGenerator"</c>.
/// </remarks>
public sealed class RandomDifferentialTests
{
    private const int GoldenSeeds = 500;
    private const int FreshSeeds = 300;
    private const string HideCursor = "\e[?25l";

    // Readable goldens: non-ASCII text as itself, one case per line group.
    private static readonly JsonSerializerOptions s_writeOptions = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly string s_goldenPath = Path.Combine(Oracle.LogsDir, "random.json");

    [Fact]
    public void GoldenFile_MatchesTheGenerator()
    {
        if (Environment.GetEnvironmentVariable("LOGQUOTA_REGENERATE_GOLDENS") == "1")
        {
            var inputs = Enumerable.Range(1, GoldenSeeds).Select(s => new TerminalInputGenerator(s).Generate()).ToList();
            var goldens = Oracle.Render(inputs);
            var entries = inputs.Select((input, i) => new RandomCase(i + 1, Hash(input), Convert.ToBase64String(input), goldens[i]));
            File.WriteAllText(s_goldenPath, JsonSerializer.Serialize(entries, s_writeOptions) + "\n");
        }

        var cases = Load();
        Assert.Equal(Enumerable.Range(1, GoldenSeeds), cases.Select(c => c.Seed));
        var drifted = cases.Where(c => Hash(new TerminalInputGenerator(c.Seed).Generate()) != c.Sha256).Select(c => c.Seed).ToList();
        Assert.True(drifted.Count == 0, $"the generator no longer gives the inputs random.json was rendered from (seeds {string.Join(", ", drifted.Take(10))}); regenerate it (see the class remarks)");
    }

    [Fact]
    public void FixedSeeds_CursorVisible_KeepEveryLineTheEmulatorShows_HoweverTheReadsEnd() =>
        AssertAll(Load().Select(c => (c.Seed, new TerminalInputGenerator(c.Seed).Generate(), c.Golden)), hiddenCursorInReads: false);

    [Fact]
    public void FixedSeeds_HiddenCursor_InRandomReads_AreStoredAsTheEmulatorShowsThem() =>
        AssertAll(Load().Select(c => (c.Seed, new TerminalInputGenerator(c.Seed).Generate(), c.Golden)), hiddenCursorInReads: true);

    /// <summary>
    /// Where reads end must not change the stored log (a busy machine cuts a job's output into other reads): 5,000 fixed
    /// seeds, each in its random reads against one read, with the cursor shown and hidden. No emulator is needed, so
    /// this runs everywhere; the seeds were hunted up to 1,800,000 shown and 300,000 hidden, clean after the fixes below.
    /// </summary>
    [Fact]
    public void ManySeeds_InRandomReads_AreStoredAsInOneRead()
    {
        var failures = new List<string>();
        for (int seed = 1_000_000; seed < 1_005_000; seed++)
        {
            var input = new TerminalInputGenerator(seed).Generate();
            byte[] hidden = [.. Encoding.ASCII.GetBytes(HideCursor), .. input];
            foreach (var (name, bytes) in new[] { ("shown", input), ("hidden", hidden) })
            {
                if (!Oracle.Store(bytes).AsSpan().SequenceEqual(Oracle.Store(bytes, RandomSplits(seed, bytes.Length))))
                {
                    failures.Add($"{seed} ({name})");
                }
            }
        }

        Assert.True(failures.Count == 0, $"stored differently in random reads than in one read: seeds {string.Join(", ", failures.Take(20))}");
    }

    /// <summary>Fresh seeds that once failed, pinned so that what they found stays fixed.</summary>
    [Theory]
    [InlineData(802835830)] // .ci/stress on 9915f14: lines pushed down by CSI L showed through shorter plain lines on the screen, not in the plain-line shortcut
    [InlineData(1137426)] // found hunting seeds 1,000,000-1,399,999: plain lines inside a scroll region (CSI 10;24 r) scroll there, not as the shortcut draws them
    [InlineData(1027127)] // found hunting seeds 1,000,000-1,099,999: a read that ended with \r, then a plain line: the shortcut missed that its text redraws the line
    public void PinnedSeeds_InRandomReads_AreStoredAsInOneRead(int seed)
    {
        var input = new TerminalInputGenerator(seed).Generate();
        var oneRead = Encoding.UTF8.GetString(Oracle.Store(input));
        var inReads = Encoding.UTF8.GetString(Oracle.Store(input, RandomSplits(seed, input.Length)));
        Assert.Null(Oracle.Diff(oneRead, inReads));
    }

    [SkippableFact]
    public void FreshSeeds_RenderedLiveByXterm_AreStoredAsXtermShowsThem()
    {
        string? whyNot = Oracle.WhyNoNode();
        Skip.If(whyNot is not null, whyNot);

        // Seeds above the committed range, different on every run; a failure names its seed so it can be pinned.
        int first = GoldenSeeds + 1 + Random.Shared.Next(1_000_000_000);
        var seeds = Enumerable.Range(first, FreshSeeds).ToList();
        var inputs = seeds.Select(s => new TerminalInputGenerator(s).Generate()).ToList();
        var goldens = Oracle.Render(inputs);

        var cases = seeds.Select((seed, i) => (seed, inputs[i], goldens[i])).ToList();
        AssertAll(cases, hiddenCursorInReads: false);
        AssertAll(cases, hiddenCursorInReads: true);
    }

    private static void AssertAll(IEnumerable<(int Seed, byte[] Input, string Golden)> cases, bool hiddenCursorInReads)
    {
        var failures = new List<string>();
        int count = 0;
        foreach (var (seed, input, golden) in cases)
        {
            count++;
            string stored;
            if (hiddenCursorInReads)
            {
                byte[] hidden = [.. Encoding.ASCII.GetBytes(HideCursor), .. input];
                stored = Encoding.UTF8.GetString(Oracle.Store(hidden, RandomSplits(seed, hidden.Length)));
            }
            else
            {
                stored = Encoding.UTF8.GetString(Oracle.Store(input));
                string inReads = Encoding.UTF8.GetString(Oracle.Store(input, RandomSplits(seed, input.Length)));
                if (Oracle.Diff(stored, inReads) is { } readsDiff)
                {
                    failures.Add($"seed {seed} (random reads against one read), input \"{Oracle.Visible(Encoding.UTF8.GetString(input))}\":\n{readsDiff}");
                }
                else if (MissingLines(golden, stored) is { } missing)
                {
                    failures.Add($"seed {seed}, input \"{Oracle.Visible(Encoding.UTF8.GetString(input))}\": the log lacks the emulator's line \"{Oracle.Visible(missing)}\"");
                }

                continue;
            }

            if (Oracle.Diff(golden, stored) is { } diff)
            {
                failures.Add($"seed {seed}{(hiddenCursorInReads ? " (hidden cursor, random reads)" : string.Empty)}, input \"{Oracle.Visible(Encoding.UTF8.GetString(input))}\":\n{diff}");
            }
        }

        Assert.True(count > 0, "no cases");
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} random inputs failed; the first:\n\n" + string.Join("\n\n", failures.Take(3)));
    }

    /// <summary>
    /// A line with text of <paramref name="golden"/> that <paramref name="stored"/> holds fewer times, or null (an empty
    /// row the program erased later may leave fewer empty lines than the screen shows).
    /// </summary>
    private static string? MissingLines(string golden, string stored)
    {
        var counts = stored.Split('\n').CountBy(line => line).ToDictionary(StringComparer.Ordinal);
        foreach (var line in golden.Split('\n').Where(line => line.Length > 0))
        {
            if (counts.GetValueOrDefault(line) == 0)
            {
                return line;
            }

            counts[line]--;
        }

        return null;
    }

    /// <summary>One to six distinct cut points, the same for a seed on every run.</summary>
    private static int[] RandomSplits(int seed, int length)
    {
        var random = new Random(seed ^ 0x5EED);
        int count = Math.Min(random.Next(1, 7), length - 1);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(1, length)).Distinct().Order()];
    }

    private static string Hash(byte[] input) => Convert.ToHexStringLower(SHA256.HashData(input));

    private static List<RandomCase> Load() =>
        File.Exists(s_goldenPath) ? JsonSerializer.Deserialize<List<RandomCase>>(File.ReadAllText(s_goldenPath)) ?? [] : [];

    private sealed record RandomCase(
        [property: JsonPropertyName("seed")] int Seed,
        [property: JsonPropertyName("sha256")] string Sha256,
        [property: JsonPropertyName("input")] string Input,
        [property: JsonPropertyName("golden")] string Golden);
}
