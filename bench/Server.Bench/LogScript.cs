using System.Text;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Bench;

/// <summary>
/// One job's whole log as a runner would hand it out: events of 100 B to 4 KiB of log lines (the runner stores
/// one event per read of completed lines), cut into pull answers of at most 4 MiB of log text (the runner's
/// <c>MaxPullLogBytes</c>), each serialized once up front so serving a pull costs the fake runner nothing.
/// </summary>
internal sealed class LogScript
{
    /// <summary>The runner's limit of log text per pull answer (src/Runner/Api/JobsApi.cs).</summary>
    private const int MaxPullLogBytes = 4 * 1024 * 1024;

    private const int MinEventBytes = 100;
    private const int MaxEventBytes = 4096;

    private readonly Dictionary<long, byte[]> _pagesAfter = [];
    private readonly byte[] _drained;

    private LogScript(List<LogEvent> events, List<byte[]> pages, List<long> pageStarts, List<int> pageEvents, long last)
    {
        Events = events;
        PageEvents = pageEvents;
        LogBytes = events.Sum(e => (long)e.Message.Length);
        for (var i = 0; i < pages.Count; i++)
        {
            _pagesAfter[pageStarts[i]] = pages[i];
        }

        _drained = JsonSerializer.SerializeToUtf8Bytes(new PullResponse([], [], last, false, LogBytes), LogQuotaJson.Options);
    }

    public IReadOnlyList<LogEvent> Events { get; }

    public long LogBytes { get; }

    /// <summary>How many events each pull answer holds, in order.</summary>
    public IReadOnlyList<int> PageEvents { get; }

    /// <summary>Builds about <paramref name="bytes"/> of log text; the same seed gives the same events.</summary>
    public static LogScript Create(long bytes, int seed)
    {
        var random = new Random(seed);
        var text = LogText(random);
        var events = new List<LogEvent>();
        var clock = 1_700_000_000_000L;
        var running = new JobStateEvent(JobState.Running, ++clock);
        long total = 0;
        var offset = 0;
        while (total < bytes)
        {
            var size = random.Next(MinEventBytes, MaxEventBytes + 1);
            if (offset + size > text.Length)
            {
                offset = 0;
            }

            // An event ends at a line end, as the runner stores completed lines.
            var message = text.AsSpan(offset, size).ToArray();
            message[^1] = (byte)'\n';
            offset += size;
            events.Add(new LogEvent(++clock, message));
            total += size;
        }

        var done = new JobStateEvent(JobState.Done, ++clock, ExitStatus: 0);
        var pages = new List<byte[]>();
        var pageStarts = new List<long>();
        var pageEvents = new List<int>();
        var after = 0L;
        var index = 0;
        long counted = 0;
        while (index < events.Count)
        {
            var page = new List<LogEvent>();
            var pageBytes = 0;
            while (index < events.Count && pageBytes + events[index].Message.Length <= MaxPullLogBytes)
            {
                page.Add(events[index]);
                pageBytes += events[index].Message.Length;
                index++;
            }

            counted += pageBytes;
            var last = index == events.Count;
            List<JobStateEvent> states = [];
            if (pages.Count == 0)
            {
                states.Add(running);
            }

            if (last)
            {
                states.Add(done);
            }

            var lastUpdated = last ? done.Timestamp : page[^1].Timestamp;
            pageStarts.Add(after);
            pageEvents.Add(page.Count);
            pages.Add(JsonSerializer.SerializeToUtf8Bytes(
                new PullResponse(states, page, lastUpdated, !last, counted), LogQuotaJson.Options));
            after = lastUpdated;
        }

        return new LogScript(events, pages, pageStarts, pageEvents, after);
    }

    /// <summary>The pull answer for <c>timestamp=<paramref name="after"/></c>.</summary>
    public byte[] PageAfter(long after) => _pagesAfter.GetValueOrDefault(after, _drained);

    /// <summary>1 MiB of lines like a training job prints: a time, a level, some words and numbers.</summary>
    private static byte[] LogText(Random random)
    {
        string[] words = ["epoch", "step", "loss", "lr", "grad_norm", "tokens/s", "eval", "checkpoint", "saved", "batch", "throughput", "warmup"];
        var builder = new StringBuilder(1 << 20);
        var line = 0;
        while (builder.Length < 1 << 20)
        {
            builder.Append("2026-11-29T09:").Append((line / 60 % 60).ToString("00")).Append(':').Append((line % 60).ToString("00"))
                .Append(".123Z INFO ");
            var count = random.Next(3, 14);
            for (var i = 0; i < count; i++)
            {
                builder.Append(words[random.Next(words.Length)]).Append('=').Append(random.NextDouble().ToString("F5")).Append(' ');
            }

            builder.Append('\n');
            line++;
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }
}
