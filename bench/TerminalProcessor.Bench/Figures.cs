using System.Globalization;
using BenchmarkDotNet.Reports;

namespace LogQuota.Bench.Terminal;

/// <summary>One row of the shared benchmark result format (bench/run collects them).</summary>
public sealed record Figure(
    string Id,
    [property: System.Text.Json.Serialization.JsonPropertyName("figure")] string Name,
    double Value,
    string Unit,
    string? Baseline,
    double? BaselineValue,
    double? Ratio,
    string Goal,
    bool Met,
    string? Note);

/// <summary>Turns BenchmarkDotNet's summary into figures: throughput per input and read size, and allocations.</summary>
public static class Figures
{
    /// <summary>Goal for plain text (SPEC issue #7): at least 1 GB/s, 1 GB = 10^9 bytes.</summary>
    public const double GoalMegabytesPerSecond = 1000;

    /// <summary>Goals of issue #12 for the screen: plain text 1 GB/s, ANSI-heavy 0.5 GB/s, multi-line redraws 200 MB/s.</summary>
    private static double? Goal(InputKind input) => input switch
    {
        InputKind.Plain or InputKind.PlainTty => GoalMegabytesPerSecond,
        InputKind.Ansi => 500,
        InputKind.Redraw => 200,
        _ => null,
    };

    /// <summary>Throughput figures for every input and read size, plus the allocation figure.</summary>
    public static int Expected => (Enum.GetValues<InputKind>().Length * 2) + 1;

    private const string Baseline = "Span copy of the same bytes, same reads, into a preallocated buffer";

    /// <param name="threadAllocations">In the quick job: bytes per operation counted on the processing thread alone,
    /// used instead of BenchmarkDotNet's in-process count, which includes every thread of the host.</param>
    public static List<Figure> From(Summary summary, Dictionary<(InputKind Input, int ReadBytes), long>? threadAllocations = null)
    {
        ArgumentNullException.ThrowIfNull(summary);

        var figures = new List<Figure>();
        long maxAllocated = 0;
        var allocations = new List<string>();
        foreach (InputKind input in Enum.GetValues<InputKind>())
        {
            long bytes = Inputs.Create(input).Length;
            foreach (int readBytes in new[] { 65_536, 4_093 })
            {
                BenchmarkReport? process = Find(summary, input, readBytes, nameof(TerminalProcessorBenchmarks.Process));
                BenchmarkReport? copy = Find(summary, input, readBytes, nameof(TerminalProcessorBenchmarks.SpanCopy));
                if (process?.ResultStatistics is not { } processStats || copy?.ResultStatistics is not { } copyStats)
                {
                    continue;
                }

                // Mean is in nanoseconds per operation; one operation is the whole input.
                double value = bytes * 1e3 / processStats.Mean;
                double baseline = bytes * 1e3 / copyStats.Mean;
                long allocated = threadAllocations is not null && threadAllocations.TryGetValue((input, readBytes), out long onThread)
                    ? onThread
                    : process.GcStats.GetBytesAllocatedPerOperation(process.BenchmarkCase) ?? -1;
                maxAllocated = allocated < 0 ? long.MaxValue : Math.Max(maxAllocated, allocated);
                allocations.Add(string.Create(CultureInfo.InvariantCulture, $"{Id(input, readBytes)} {allocated} B/op"));

                bool plain = input is InputKind.Plain or InputKind.PlainTty;
                double? goal = Goal(input);
                figures.Add(new Figure(
                    Id(input, readBytes),
                    string.Create(CultureInfo.InvariantCulture, $"terminal processor, {Describe(input)}, {ReadSize(readBytes)} reads"),
                    Math.Round(value, 1),
                    "MB/s",
                    Baseline,
                    Math.Round(baseline, 1),
                    Math.Round(value / baseline, 3),
                    goal is { } g ? string.Create(CultureInfo.InvariantCulture, $">= {g:F0} MB/s") : "reported",
                    goal is not { } minimum || value >= minimum,
                    string.Create(CultureInfo.InvariantCulture,
                        $"{bytes} input bytes/op, mean {processStats.Mean / 1e6:F3} ms, allocated {allocated} B/op, {ProcessedBy(summary)}{Informative(plain, value)}")));
            }
        }

        if (figures.Count > 0)
        {
            figures.Add(new Figure(
                "terminal_allocated",
                "terminal processor, bytes allocated per op (largest over every input and read size)",
                maxAllocated == long.MaxValue ? -1 : maxAllocated,
                "B/op",
                null,
                null,
                null,
                "0 B/op",
                maxAllocated == 0,
                string.Join("; ", allocations) + (threadAllocations is not null ? "; " + QuickAllocationNote : "")));
        }

        return figures;
    }

    public static void Print(List<Figure> figures)
    {
        ArgumentNullException.ThrowIfNull(figures);

        Console.WriteLine();
        Console.WriteLine($"{"figure",-72} | {"value",14} | {"baseline",14} | {"ratio",6} | {"goal",12} | met");
        Console.WriteLine(new string('-', 136));
        foreach (Figure f in figures)
        {
            string value = string.Create(CultureInfo.InvariantCulture, $"{f.Value:F1} {f.Unit}");
            string baseline = f.BaselineValue is { } b ? string.Create(CultureInfo.InvariantCulture, $"{b:F1} {f.Unit}") : "-";
            string ratio = f.Ratio is { } r ? r.ToString("F3", CultureInfo.InvariantCulture) : "-";
            Console.WriteLine($"{f.Name,-72} | {value,14} | {baseline,14} | {ratio,6} | {f.Goal,12} | {(f.Met ? "yes" : "NO")}");
        }

        Console.WriteLine("MB = 10^6 bytes. Ratio = processor throughput / Span copy throughput in the same run.");
    }

    private static BenchmarkReport? Find(Summary summary, InputKind input, int readBytes, string method) =>
        summary.Reports.FirstOrDefault(report =>
            report.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
            && (InputKind)report.BenchmarkCase.Parameters[nameof(TerminalProcessorBenchmarks.Input)] == input
            && (int)report.BenchmarkCase.Parameters[nameof(TerminalProcessorBenchmarks.ReadBytes)] == readBytes);

    // Seen on this machine: in-process, even the Span copy, which allocates nothing, now and then shows 1-4 KB per
    // measured iteration, because BenchmarkDotNet counts GC.GetTotalAllocatedBytes, which covers every thread of the host.
    private const string QuickAllocationNote =
        "quick job: counted with GC.GetAllocatedBytesForCurrentThread over 20 warm operations per case on the thread that "
        + "runs the processor (in-process BenchmarkDotNet would count every thread of the host); the full job counts out of "
        + "process with BenchmarkDotNet's MemoryDiagnoser";

    private static string Informative(bool plain, double value) =>
        plain ? "" : value >= GoalMegabytesPerSecond ? "; also >= 1000 MB/s" : "; below 1000 MB/s";

    private static bool IsQuick(Summary summary) => summary.BenchmarksCases.FirstOrDefault()?.Job.Id == "Quick";

    private static string ProcessedBy(Summary summary) => IsQuick(summary) ? "quick in-process job" : "full BenchmarkDotNet job";

    private static string Id(InputKind input, int readBytes) => string.Create(
        CultureInfo.InvariantCulture,
        $"terminal_{input switch { InputKind.PlainTty => "plain_tty", _ => input.ToString().ToLowerInvariant() }}_{(readBytes >= 65_536 ? "64k" : "4k")}");

    private static string ReadSize(int readBytes) => readBytes == 65_536 ? "64 KiB" : $"{readBytes}-byte";

    private static string Describe(InputKind input) => input switch
    {
        InputKind.Plain => "plain text (\\n, pipe)",
        InputKind.PlainTty => "plain text (\\r\\n, pty)",
        InputKind.Ansi => "ANSI-heavy (SGR/CSI/OSC)",
        InputKind.Progress => "progress bars (\\r redraws)",
        InputKind.Redraw => "multi-line redraws (nested bars, CSI A/J)",
        _ => input.ToString(),
    };
}
