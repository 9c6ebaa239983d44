using System.Buffers;
using BenchmarkDotNet.Attributes;
using LogQuota.Runner.Logs;

namespace LogQuota.Bench.Terminal;

/// <summary>
/// One operation feeds a whole input (about 4 MiB) to <see cref="TerminalProcessor"/> in reads of
/// <see cref="ReadBytes"/>, the way Job.OnOutput does: one processor and one output buffer for the job's life,
/// the buffer's written count reset before every read. The baseline copies the same bytes, in the same reads,
/// into a preallocated buffer.
/// </summary>
[MemoryDiagnoser]
public class TerminalProcessorBenchmarks
{
    /// <summary>
    /// 65,536: the runner's read buffer, filled by gathering while a fast job keeps output waiting.
    /// 4,093: about one pty read (the kernel hands out ~4 KiB at a time); odd, so reads end inside escape
    /// sequences, UTF-8 characters, "\r\n" pairs and lines at ever-changing offsets.
    /// </summary>
    [Params(65_536, 4_093)]
    public int ReadBytes { get; set; }

    [ParamsAllValues]
    public InputKind Input { get; set; }

    private byte[] _input = [];
    private byte[] _copy = [];
    private TerminalProcessor _processor = new();

    // Job.cs keeps one ArrayBufferWriter of 64 KiB for the job's life; it grows once to fit the largest read's output.
    private ArrayBufferWriter<byte> _output = new(64 * 1024);

    [GlobalSetup]
    public void Setup()
    {
        _input = Inputs.Create(Input);
        _copy = new byte[ReadBytes];
        // Plain input ends its lines in a bare "\n", as a pipe delivers them: the runner reads a pipe that way.
        _processor = new TerminalProcessor(newLineReturns: Input == InputKind.Plain);
        _output = new ArrayBufferWriter<byte>(64 * 1024);
    }

    /// <summary>Runs every case for about <paramref name="duration"/> in all.</summary>
    public static void WarmUp(TimeSpan duration)
    {
        var cases = new List<TerminalProcessorBenchmarks>();
        foreach (InputKind input in Enum.GetValues<InputKind>())
        {
            foreach (int readBytes in new[] { 65_536, 4_093 })
            {
                var benchmark = new TerminalProcessorBenchmarks { Input = input, ReadBytes = readBytes };
                benchmark.Setup();
                cases.Add(benchmark);
            }
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            foreach (TerminalProcessorBenchmarks benchmark in cases)
            {
                benchmark.Process();
                benchmark.SpanCopy();
            }
        }
    }

    /// <summary>
    /// Bytes allocated per operation on the calling thread, after a warm-up, for every case: what the quick job reports,
    /// since in-process BenchmarkDotNet counts every thread of the host (see Figures).
    /// </summary>
    public static Dictionary<(InputKind Input, int ReadBytes), long> AllocatedPerOperationOnThisThread(int operations)
    {
        var result = new Dictionary<(InputKind, int), long>();
        foreach (InputKind input in Enum.GetValues<InputKind>())
        {
            foreach (int readBytes in new[] { 65_536, 4_093 })
            {
                var benchmark = new TerminalProcessorBenchmarks { Input = input, ReadBytes = readBytes };
                benchmark.Setup();
                benchmark.Process(); // the output buffer grows to its final size once, as in a job's first reads
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < operations; i++)
                {
                    benchmark.Process();
                }

                result[(input, readBytes)] = (GC.GetAllocatedBytesForCurrentThread() - before) / operations;
            }
        }

        return result;
    }

    [Benchmark(Baseline = true)]
    public long SpanCopy()
    {
        long copied = 0;
        ReadOnlySpan<byte> input = _input;
        while (!input.IsEmpty)
        {
            ReadOnlySpan<byte> read = input.Length > ReadBytes ? input[..ReadBytes] : input;
            read.CopyTo(_copy);
            copied += _copy[read.Length - 1];
            input = input[read.Length..];
        }

        return copied;
    }

    [Benchmark]
    public long Process()
    {
        long stored = 0;
        ReadOnlySpan<byte> input = _input;
        while (!input.IsEmpty)
        {
            ReadOnlySpan<byte> read = input.Length > ReadBytes ? input[..ReadBytes] : input;
            _output.ResetWrittenCount();
            _processor.Process(read, _output);
            stored += _output.WrittenCount;
            input = input[read.Length..];
        }

        return stored;
    }
}
