using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;
using LogQuota.Bench.Terminal;

// Usage: dotnet run -c Release --project bench/TerminalProcessor.Bench -- [--quick] [--json PATH]
// Or: ... -- --cpu-time ROUNDS   (CPU nanoseconds per input byte of each kind, 4 KiB reads; see CpuTime.cs)
if (args.Length == 2 && args[0] == "--cpu-time")
{
    CpuTime.Print(Enum.GetValues<InputKind>(), 4_093, int.Parse(args[1], CultureInfo.InvariantCulture), 4);
    return 0;
}

bool quick = false;
string? jsonPath = null;
string? filter = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--quick":
            quick = true;
            break;
        case "--json" when i + 1 < args.Length:
            jsonPath = Path.GetFullPath(args[++i]);
            break;
        case "--filter" when i + 1 < args.Length:
            // A BenchmarkDotNet glob over "Class.Method(params)", e.g. "*Process*Ansi*"; for working on one case.
            filter = args[++i];
            break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; usage: [--quick] [--json PATH] [--filter GLOB]");
            return 2;
    }
}

// Quick: in-process, a few short iterations (16 cases in about 20 s on 2 cores). Full: each case in its own process
// (BenchmarkDotNet builds a host project first), with a pilot stage, 6 warm-up and 15 measured iterations of 250 ms:
// about 4 minutes on 2 cores.
Job job = quick
    ? Job.Default
        .WithToolchain(InProcessEmitToolchain.Instance)
        .WithLaunchCount(1)
        .WithWarmupCount(2)
        .WithIterationCount(5)
        .WithIterationTime(TimeInterval.FromMilliseconds(100))
        .WithId("Quick")
    : Job.Default
        .WithLaunchCount(1)
        .WithWarmupCount(6)
        .WithIterationCount(15)
        .WithIterationTime(TimeInterval.FromMilliseconds(250))
        .WithId("Full");

// The artifacts go under this project's bin/ (ignored by git), not into whatever directory the command ran from.
string artifacts = Path.Combine(AppContext.BaseDirectory, "BenchmarkDotNet.Artifacts");
IConfig config = DefaultConfig.Instance
    .AddJob(job.AsDefault())
    .WithArtifactsPath(artifacts)
    .WithOptions(ConfigOptions.DisableLogFile);
if (filter is not null)
{
    config = config.AddFilter(new GlobFilter([filter]));
}

if (quick)
{
    // In-process, the benchmarks share this process's JIT: bring the processor to its final (tier-1) code first, so
    // that the first case's short warm-up does not measure code still waiting for the background compiler.
    TerminalProcessorBenchmarks.WarmUp(TimeSpan.FromSeconds(1));
}

Summary summary = BenchmarkRunner.Run<TerminalProcessorBenchmarks>(config);

List<Figure> figures = Figures.From(summary, quick ? TerminalProcessorBenchmarks.AllocatedPerOperationOnThisThread(20) : null);
Figures.Print(figures);
if (figures.Count == 0)
{
    Console.Error.WriteLine("no benchmark produced a result; see the BenchmarkDotNet output above");
    return 1;
}

if (jsonPath is not null)
{
    Directory.CreateDirectory(Path.GetDirectoryName(jsonPath)!);
    var options = new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
    await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(new { figures }, options));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {jsonPath}"));
}

return figures.Count == Figures.Expected || filter is not null ? 0 : 1;
