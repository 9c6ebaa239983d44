using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using LogQuota.Bench.Terminal;
using LogQuota.Runner.Logs;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

// The runner's read path with the quota policy on (warnings at 80 %, the top-lines sketch, the per-minute rate) against
// the quota off, on the same bytes in one process, alternating, so the ratio is measured under the same conditions.
//
// Usage: dotnet run -c Release --project bench/QuotaPolicy.Bench -- [--quick] [--json PATH]
var quick = args.Contains("--quick");
var jsonIndex = Array.IndexOf(args, "--json");
var jsonPath = jsonIndex >= 0 && jsonIndex + 1 < args.Length ? Path.GetFullPath(args[jsonIndex + 1]) : null;

// Rounds of each variant, alternated (off, on, off, on, ...) after a warm-up. Each round is timed in this thread's CPU
// time (CLOCK_THREAD_CPUTIME_ID), which a machine shared with other work does not inflate by preempting it; the fastest
// round of each variant is compared (the ratio of the medians is printed too).
var rounds = quick ? 9 : 41;
const int ReadSize = 4096; // what one read(2) of a pty returns at most on Linux

var figures = new List<Dictionary<string, object?>>();
foreach (var kind in new[] { InputKind.PlainTty, InputKind.Ansi, InputKind.Progress })
{
    var input = Inputs.Create(kind);
    for (var i = 0; i < 3; i++)
    {
        ReadPath(input, quotaOn: false);
        ReadPath(input, quotaOn: true);
    }

    var off = new List<double>();
    var on = new List<double>();
    for (var round = 0; round < rounds; round++)
    {
        off.Add(ReadPath(input, quotaOn: false));
        on.Add(ReadPath(input, quotaOn: true));
    }

    var offMedian = off.Min();
    var onMedian = on.Min();
    var medianRatio = Median(on) / Median(off);
    var mbPerSecondOff = input.Length / offMedian / 1e6;
    var mbPerSecondOn = input.Length / onMedian / 1e6;
    var overhead = (onMedian / offMedian) - 1;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{kind,-9} quota off {mbPerSecondOff,7:F0} MB/s   quota on (warn 80 %, sketch, rate) {mbPerSecondOn,7:F0} MB/s   time ratio on/off {onMedian / offMedian:F3} ({overhead * 100:+0.0;-0.0} %; medians {medianRatio:F3})"));
    figures.Add(new()
    {
        ["id"] = $"quota_read_path_{kind.ToString().ToLowerInvariant()}",
        ["figure"] = $"read path, {kind} tty output, quota policy on vs off (time ratio)",
        ["value"] = Math.Round(mbPerSecondOn, 1),
        ["unit"] = "MB/s",
        ["baseline"] = "quota off",
        ["baseline_value"] = Math.Round(mbPerSecondOff, 1),
        ["ratio"] = Math.Round(onMedian / offMedian, 3),
        ["goal"] = "time ratio <= 1.10",
        ["met"] = onMedian / offMedian <= 1.10,
        ["note"] = string.Create(CultureInfo.InvariantCulture, $"fastest of {rounds} alternating rounds of {input.Length / 1024} KiB in {ReadSize}-byte reads; ratio of medians {medianRatio:F3}"),
        ["benchmark"] = "quota",
    });
}

if (jsonPath is not null)
{
    await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(new { figures }));
}

return 0;

// One pass of the read path over the input: terminal processing, then the quota policy storing into a stand-in spool
// (a memory copy: the real spool's write(2) would only make the policy's share smaller). Returns seconds.
static double ReadPath(byte[] input, bool quotaOn)
{
    var terminal = new TerminalProcessor(TimeProvider.System);
    var policy = new QuotaPolicy(quotaOn ? long.MaxValue / 4 : null, LogQuotaAction.Kill, [80], TimeSpan.Zero, TimeProvider.System);
    var spool = new CopyingSpool();
    var lines = new ArrayBufferWriter<byte>(64 * 1024);
    var start = ThreadCpuSeconds();
    for (var offset = 0; offset < input.Length; offset += ReadSize)
    {
        lines.ResetWrittenCount();
        terminal.Process(input.AsSpan(offset, Math.Min(ReadSize, input.Length - offset)), lines);
        if (lines.WrittenCount > 0)
        {
            policy.Offer(lines.WrittenSpan, spool);
        }
    }

    lines.ResetWrittenCount();
    terminal.Finish(lines);
    policy.Offer(lines.WrittenSpan, spool);
    policy.Finish(spool);
    var seconds = ThreadCpuSeconds() - start;
    if (spool.Bytes == 0)
    {
        throw new InvalidOperationException("nothing was stored: the benchmark measured nothing");
    }

    return seconds;
}

static double ThreadCpuSeconds()
{
    const int ClockThreadCpuTimeId = 3;
    return Native.clock_gettime(ClockThreadCpuTimeId, out var time) == 0
        ? time.Seconds + (time.Nanoseconds / 1e9)
        : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted[sorted.Count / 2];
}

internal static partial class Native
{
    [StructLayout(LayoutKind.Sequential)]
    internal struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    internal static partial int clock_gettime(int clock, out Timespec time);
}

/// <summary>Where the policy stores: one reused buffer, so storing costs a copy and nothing else.</summary>
internal sealed class CopyingSpool : IQuotaOutput
{
    private readonly byte[] _buffer = new byte[1024 * 1024];

    public long Bytes { get; private set; }

    public void Append(ReadOnlySpan<byte> text) => Copy(text);

    public void AppendRunner(ReadOnlySpan<byte> text) => Copy(text);

    public void Event(string type, string message)
    {
    }

    private void Copy(ReadOnlySpan<byte> text)
    {
        text[..Math.Min(text.Length, _buffer.Length)].CopyTo(_buffer);
        Bytes += text.Length;
    }
}
