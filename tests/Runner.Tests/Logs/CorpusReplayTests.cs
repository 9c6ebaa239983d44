using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// Every capture in <c>Logs/Corpus</c> (real programs recorded under a 200×50 pty by <c>capture.py</c>)
/// replayed through a real job on a real runner with a real pty, all at once, with the recorded read timing, and with
/// the recorded timing while a CPU hog saturates the machine: the job's whole stored log must equal what xterm.js
/// shows for the same bytes (the golden), byte for byte, in every replay.
/// </summary>
/// <remarks>
/// The job runs <c>stty -opost</c> first: the capture already holds the program's <c>\r\n</c>, and with output
/// processing on, the job's pty would turn each into <c>\r\r\n</c>. The one runner is shared by the class;
/// rows run one after another, the whole class in about the sum of the captures' durations. When the job's reads
/// happen depends on machine load; the storing rule does not depend on where reads end, so neither may the log.
/// Cases in <c>stored-goldens.txt</c> fall into a documented exception of the storing rule (a first frame drawn as plain
/// lines, <c>clear</c> between phases; docs/architecture.md): their expected log is <c>&lt;case&gt;.stored.golden</c>,
/// built from xterm.js renders by <c>stored_golden.py</c>.
/// </remarks>
public sealed class CorpusReplayTests(CorpusReplayTests.RunnerFixture fixture) : IClassFixture<CorpusReplayTests.RunnerFixture>
{
    // /usr/bin/python3 first: a job may run as another uid (SPEC §7), which cannot use a per-user pyenv shim.
    private static readonly string s_python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    public static TheoryData<string> Cases => [.. CaseNames()];

    private static IEnumerable<string> CaseNames() =>
        Directory.GetFiles(Oracle.CorpusDir, "*.raw").Select(path => Path.GetFileNameWithoutExtension(path)).Order(StringComparer.Ordinal);

    [Fact]
    public void Corpus_HasAtLeastTwentyCases_EachWithTimingAndGolden()
    {
        var cases = CaseNames().ToList();
        Assert.True(cases.Count >= 20, $"only {cases.Count} corpus cases");
        foreach (var name in cases)
        {
            Assert.True(File.Exists(CorpusFile(name, ".golden")), $"{name}.golden is missing: run Corpus/regenerate.sh");
            var timed = File.ReadLines(CorpusFile(name, ".timing")).Sum(line => long.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(new FileInfo(CorpusFile(name, ".raw")).Length, timed);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Capture_WrittenAllAtOnce_IsStoredAsTheEmulatorShowsIt(string name) =>
        await AssertStoredEqualsGolden(name, $"cat {Quote(CorpusFile(name, ".raw"))}");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Capture_ReplayedWithItsTiming_IsStoredAsTheEmulatorShowsIt(string name) =>
        await AssertStoredEqualsGolden(name,
            $"{s_python} {Quote(Path.Combine(Oracle.CorpusDir, "replay.py"))} {Quote(CorpusFile(name, ".raw"))} {Quote(CorpusFile(name, ".timing"))}");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Capture_ProcessedInItsRecordedReads_IsStoredAsTheEmulatorShowsIt(string name)
    {
        byte[] capture = await File.ReadAllBytesAsync(CorpusFile(name, ".raw"));
        var splits = new List<int>();
        foreach (var line in File.ReadLines(CorpusFile(name, ".timing")))
        {
            splits.Add((splits.Count > 0 ? splits[^1] : 0) + int.Parse(line.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture));
        }

        string golden = await ExpectedAsync(name);
        string? diff = Oracle.Diff(golden, Encoding.UTF8.GetString(Oracle.Store(capture, [.. splits.SkipLast(1)])));
        Assert.True(diff is null, $"{name}: {diff}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Capture_ReplayedWithItsTiming_BesideACpuHog_IsStoredAsTheEmulatorShowsIt(string name)
    {
        using var hog = CpuHog.Start(busyLoopsPerCore: 2);
        await AssertStoredEqualsGolden(name,
            $"{s_python} {Quote(Path.Combine(Oracle.CorpusDir, "replay.py"))} {Quote(CorpusFile(name, ".raw"))} {Quote(CorpusFile(name, ".timing"))}");
        Assert.True(hog.AllRunning, "the CPU hog's busy loops ended before the replay did");
    }

    private async Task AssertStoredEqualsGolden(string name, string writeCapture)
    {
        // A generous deadline: a replay of a few seconds can take far longer on a loaded machine.
        var result = await fixture.Runner.RunAsync(new JobSpec(["stty -opost", writeCapture], Tty: true), TimeSpan.FromSeconds(180));

        Assert.Equal(JobState.Done, result.Final.State);
        string golden = await ExpectedAsync(name);
        string? diff = Oracle.Diff(golden, result.Text);
        Assert.True(diff is null, $"{name}: {diff}");
        Assert.Equal(Encoding.UTF8.GetBytes(golden), result.Bytes);
    }

    /// <summary>The golden, or for a case of a documented exception its stored golden.</summary>
    private static async Task<string> ExpectedAsync(string name)
    {
        bool exception = File.ReadLines(CorpusFile("stored-goldens", ".txt")).Any(line => line.Split(' ')[0] == name);
        return await File.ReadAllTextAsync(CorpusFile(name, exception ? ".stored.golden" : ".golden"), Encoding.UTF8);
    }

    private static string CorpusFile(string name, string extension) => Path.Combine(Oracle.CorpusDir, name + extension);

    private static string Quote(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>One runner for the class: starting one per row would cost more than most rows.</summary>
    public sealed class RunnerFixture : IAsyncLifetime
    {
        public RunnerHost Runner { get; private set; } = null!;

        public async Task InitializeAsync() => Runner = await RunnerHost.StartAsync();

        public async Task DisposeAsync() => await Runner.DisposeAsync();
    }
}
