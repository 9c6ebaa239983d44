using System.Buffers;
using System.Text;
using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Logs;

/// <summary>Where a search goes on: after the event at <paramref name="After"/> (null: the log's start), whose next event's
/// first line is number <paramref name="NextLine"/>, and of which the first <paramref name="Skip"/> lines were already read.</summary>
public readonly record struct LogSearchPosition(LogCursor? After, long NextLine, int Skip)
{
    public static LogSearchPosition Start => new(null, 1, 0);
}

/// <summary>What a search looks for: lines matching a pattern, or one line by number (<see cref="long.MaxValue"/>: the last).</summary>
public sealed record LogSearchTarget(LogLinePattern? Pattern, long? Line)
{
    public const long LastLine = long.MaxValue;
}

/// <summary>One page of a search: the lines found, where the next page starts (null at the log's end) and the last line read.</summary>
public sealed record LogSearchPage(List<LogLine> Lines, LogSearchPosition? Next, long LastLine);

/// <summary>
/// Reads a job's log from a position, line by line and numbered from the log's start, a batch of events per database
/// round trip: memory is one batch of events (at most <see cref="BatchSize"/> reads of 64 KiB) and the page's lines,
/// however long the log. Each batch is a short query of its own, as the text stream's are, so a long search never holds
/// a read transaction open. A search's page ends at <c>limit</c> lines or after <see cref="PageTime"/>, whichever comes
/// first; a line look-up reads until it finds its line.
/// </summary>
public static class LogSearch
{
    public const int BatchSize = 256;

    /// <summary>The longest one page reads: a search through a gigabyte answers in pages a proxy will not time out,
    /// each with a <c>next_token</c> to go on.</summary>
    public static readonly TimeSpan PageTime = TimeSpan.FromSeconds(5);

    public static async Task<LogSearchPage> ReadAsync(
        IQueryable<LogEventEntity> events, LogSearchPosition from, LogSearchTarget target, int limit, TimeProvider time, CancellationToken cancellationToken)
    {
        var found = new List<LogLine>();
        var started = time.GetTimestamp();
        var after = from.After;
        var line = from.NextLine;
        var skip = from.Skip;
        var lastLine = line - 1;
        (LogEventEntity Event, long FirstLine)? last = null;
        var ranges = new List<Range>();
        var chars = ArrayPool<char>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                var batch = await LogsQuery.Ordered(events, after, descending: false).Take(BatchSize).ToListAsync(cancellationToken);
                foreach (var e in batch)
                {
                    var length = Encoding.UTF8.GetCharCount(e.Message);
                    if (length > chars.Length)
                    {
                        ArrayPool<char>.Shared.Return(chars);
                        chars = ArrayPool<char>.Shared.Rent(length);
                    }

                    var text = chars.AsSpan(0, Encoding.UTF8.GetChars(e.Message, chars));
                    var index = 0;
                    foreach (var range in Lines(text, ranges))
                    {
                        if (index >= skip)
                        {
                            lastLine = line + index;
                            var hit = target.Pattern is { } pattern ? pattern.IsMatch(text[range]) : lastLine == target.Line;
                            if (hit)
                            {
                                found.Add(Found(e, text[range], lastLine, index));
                                if (target.Pattern is null)
                                {
                                    return new LogSearchPage(found, null, lastLine);
                                }

                                if (found.Count == limit)
                                {
                                    return new LogSearchPage(found, new LogSearchPosition(after, line, index + 1), lastLine);
                                }
                            }
                        }

                        index++;
                    }

                    last = (e, line);
                    line += index;
                    skip = 0;
                    after = new LogCursor(e.Timestamp, e.Id);
                }

                if (batch.Count < BatchSize)
                {
                    if (target.Line == LogSearchTarget.LastLine && last is { } end)
                    {
                        found.Add(LastOf(end.Event, end.FirstLine));
                    }

                    return new LogSearchPage(found, null, lastLine);
                }

                // A line look-up answers in one request (it has no pages): only searches are cut by time.
                if (target.Pattern is not null && time.GetElapsedTime(started) >= PageTime)
                {
                    return new LogSearchPage(found, new LogSearchPosition(after, line, 0), lastLine);
                }
            }
        }
        finally
        {
            ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>The lines of an event: split at newlines, the last one ended by the event's end if not by a newline
    /// (as the web page and <c>format=text</c> readers see stored events).</summary>
    private static List<Range> Lines(ReadOnlySpan<char> text, List<Range> ranges)
    {
        ranges.Clear();
        var start = 0;
        while (true)
        {
            var newline = text[start..].IndexOf('\n');
            if (newline < 0)
            {
                if (start < text.Length || ranges.Count == 0)
                {
                    ranges.Add(new Range(start, text.Length));
                }

                return ranges;
            }

            ranges.Add(new Range(start, start + newline));
            start += newline + 1;
            if (start == text.Length)
            {
                return ranges;
            }
        }
    }

    private static LogLine LastOf(LogEventEntity e, long firstLine)
    {
        var text = Encoding.UTF8.GetString(e.Message).AsSpan();
        var ranges = Lines(text, []);
        return Found(e, text[ranges[^1]], firstLine + ranges.Count - 1, ranges.Count - 1);
    }

    private static LogLine Found(LogEventEntity e, ReadOnlySpan<char> text, long line, int lineInEvent) =>
        new(line, DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp), e.LogSource, text.TrimEnd('\r').ToString(), lineInEvent);
}
