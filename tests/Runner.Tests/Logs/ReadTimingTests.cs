using System.Globalization;
using System.Text;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// The stored log is a function of the bytes alone: however a job's output is cut into reads — which depends on machine
/// load — the processor stores the same lines. Every corpus capture is processed in one read, in its recorded reads,
/// in reads cut at every line feed, and in random reads, and must give the same log each time.
/// </summary>
public sealed class ReadTimingTests
{
    public static TheoryData<string> Cases =>
        [.. Directory.GetFiles(Oracle.CorpusDir, "*.raw").Select(path => Path.GetFileNameWithoutExtension(path)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Capture_IsStoredTheSame_HoweverItsBytesAreCutIntoReads(string name)
    {
        byte[] capture = File.ReadAllBytes(Path.Combine(Oracle.CorpusDir, name + ".raw"));
        string whole = Encoding.UTF8.GetString(Oracle.Store(capture));

        var cuts = new Dictionary<string, int[]>
        {
            ["its recorded reads"] = RecordedReads(name),
            ["reads cut after every line feed"] = [.. Enumerable.Range(1, capture.Length - 1).Where(i => capture[i - 1] == '\n')],
            ["reads cut before every escape"] = [.. Enumerable.Range(1, capture.Length - 1).Where(i => capture[i] == 0x1B)],
        };
        for (int seed = 1; seed <= 3; seed++)
        {
            var random = new Random(seed);
            var splits = new SortedSet<int>();
            for (int i = 0; i < capture.Length / 64; i++)
            {
                splits.Add(random.Next(1, Math.Max(2, capture.Length)));
            }

            cuts[$"random reads (seed {seed})"] = [.. splits.Where(s => s < capture.Length)];
        }

        foreach (var (how, splits) in cuts)
        {
            string? diff = Oracle.Diff(whole, Encoding.UTF8.GetString(Oracle.Store(capture, splits)));
            Assert.True(diff is null, $"{name} in {how} (expected: the capture in one read): {diff}");
        }
    }

    private static int[] RecordedReads(string name)
    {
        var splits = new List<int>();
        foreach (var line in File.ReadLines(Path.Combine(Oracle.CorpusDir, name + ".timing")))
        {
            splits.Add((splits.Count > 0 ? splits[^1] : 0) + int.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture));
        }

        return [.. splits.SkipLast(1)];
    }
}
