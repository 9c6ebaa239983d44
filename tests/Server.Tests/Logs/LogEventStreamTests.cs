using System.Net;
using System.Text;
using System.Text.Json;
using LogQuota.Server.Apis;
using LogQuota.Server.Logs;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Logs;

/// <summary>
/// <c>follow=true</c> as an event stream (<c>Accept: text/event-stream</c>): one response for the whole follow, a frame
/// per commit that brings something, <c>end</c> when the run has ended; a hundred streams share one read per commit.
/// </summary>
public sealed class LogEventStreamTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_800_000_000_000);

    [Fact]
    public async Task HundredStreams_GetEachCommitAsOneFrame_FromOneSharedRead_AndEndTogether()
    {
        var feed = new LogFeed();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var run = Guid.NewGuid();
        var stored = false;
        var ended = false;
        var reads = 0;
        Task<FollowedPage> Read(LogsQuery position)
        {
            Interlocked.Increment(ref reads);
            LogsResponse page = new(Volatile.Read(ref stored) && position.Start is null ? [new RunLogEvent(At, "line\n"u8.ToArray())] : [], null);
            return Task.FromResult(new FollowedPage(page, Volatile.Read(ref ended), JsonSerializer.SerializeToUtf8Bytes(page, LogQuotaJson.Options)));
        }

        var start = new LogsQuery(Text: false, Source: null, Start: null, End: null, Limit: 100, Descending: false, NextToken: null);
        var bodies = Enumerable.Range(0, 100).Select(_ => new MemoryStream()).ToList();
        var streams = bodies.Select(b => LogEventStream.WriteAsync(Synchronized(b), feed, run, start, Read, time, CancellationToken.None)).ToList();

        // Each stream sent its first page (empty) from one shared read, and waits.
        await Eventually.TrueAsync(() => bodies.All(b => Frames(b).Count == 1), "every stream's first frame");
        Assert.Equal(1, reads);

        Volatile.Write(ref stored, true);
        feed.Stored(run);
        await Eventually.TrueAsync(() => bodies.All(b => Frames(b).Count == 2), "every stream's frame of the commit");
        Assert.Equal(2, reads);

        Volatile.Write(ref ended, true);
        feed.Stored(run);
        await Task.WhenAll(streams).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(3, reads);
        foreach (var body in bodies)
        {
            var frames = Frames(body);
            Assert.Equal(3, frames.Count);
            Assert.StartsWith("event: page\ndata: {\"logs\":[]", frames[0], StringComparison.Ordinal);
            Assert.StartsWith("event: page\ndata: {\"logs\":[{", frames[1], StringComparison.Ordinal);
            Assert.Contains(Convert.ToBase64String("line\n"u8), frames[1], StringComparison.Ordinal);
            Assert.Equal("event: end\ndata: {}", frames[2]);
        }
    }

    [Fact]
    public async Task AStream_WithoutCommits_ReadsAgainOncePerRecheck_AndSaysItIsAliveEveryFifteenSeconds()
    {
        var feed = new LogFeed();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reads = 0;
        Task<FollowedPage> Read(LogsQuery position)
        {
            Interlocked.Increment(ref reads);
            LogsResponse page = new([], null);
            return Task.FromResult(new FollowedPage(page, false, JsonSerializer.SerializeToUtf8Bytes(page, LogQuotaJson.Options)));
        }

        var body = new MemoryStream();
        using var leave = new CancellationTokenSource();
        var start = new LogsQuery(Text: false, Source: null, Start: null, End: null, Limit: 100, Descending: false, NextToken: null);
        var stream = LogEventStream.WriteAsync(Synchronized(body), feed, Guid.NewGuid(), start, Read, time, leave.Token);

        // Time passes a recheck at a time (the stream may not be waiting yet when it does: then the next step fires it).
        await Eventually.TrueAsync(() => Volatile.Read(ref reads) == 1, "the first read");
        var passed = TimeSpan.Zero;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (Frames(body).Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"no keep-alive after {passed} without a commit ({reads} reads)");
            time.Advance(LogFeed.RecheckInterval);
            passed += LogFeed.RecheckInterval;
            await Task.Delay(5);
        }

        // Not before fifteen seconds of silence, and at most one read per recheck meanwhile.
        Assert.Equal(": keep-alive", Frames(body)[1]);
        Assert.True(passed >= LogEventStream.KeepAlive, $"the keep-alive came after {passed}");
        Assert.InRange(Volatile.Read(ref reads), 2, 1 + (int)(passed / LogFeed.RecheckInterval));

        // The client leaves: the stream ends quietly.
        await leave.CancelAsync();
        await stream.WaitAsync(TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task OverHttp_TheStreamCarriesEveryLineOnce_AsItIsStored_AndEndsWithTheRun()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();
        // In the temp directory itself: a job under its own uid can see it there (the server's directory is 0700).
        var gate = Path.Combine(Path.GetTempPath(), $"logquota-stream-gate-{Guid.NewGuid():N}");
        await client.SubmitAsync(new SubmitRunRequest([$"echo first; while [ ! -e {gate} ]; do sleep 0.05; done; echo second"], RunName: "streamed", Tty: false));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/api/runs/streamed/logs?follow=true&source=job", UriKind.Relative));
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("no-cache", response.Headers.CacheControl?.ToString());
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

            // The line stored before the gate opens arrives while the job still runs.
            var text = new StringBuilder();
            while (!text.ToString().Contains("first\n", StringComparison.Ordinal))
            {
                var (kind, data) = await NextFrameAsync(reader);
                Assert.Equal("page", kind);
                text.Append(Lines(data));
            }

            await File.WriteAllTextAsync(gate, "");
            while (true)
            {
                var (kind, data) = await NextFrameAsync(reader);
                if (kind == "end")
                {
                    break;
                }

                Assert.Equal("page", kind);
                text.Append(Lines(data));
            }

            Assert.Equal("first\nsecond\n", text.ToString());
            Assert.Null(await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90)));
        }
        finally
        {
            File.Delete(gate);
        }
    }

    [Theory]
    [InlineData("?follow=true&wait=5", "wait applies to a long poll")]
    [InlineData("?follow=true&next_token=forged", "next_token is not a token this server issued")]
    public async Task AStreamsParameters_AreChecked_WithA400BeforeTheStreamStarts(string query, string says)
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" });
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "checked"));
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri($"/api/runs/checked/logs{query}", UriKind.Relative));
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await client.SendAsync(request);
        Assert.Contains(says, await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    /// <summary>The next frame: its event name and its data line; fails after 90 s without one.</summary>
    private static async Task<(string Kind, string Data)> NextFrameAsync(StreamReader reader)
    {
        string? kind = null;
        string? data = null;
        while (true)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90));
            Assert.NotNull(line);
            if (line.Length == 0 && kind is not null)
            {
                return (kind, data ?? "");
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                kind = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }
    }

    private static string Lines(string pageJson)
    {
        var page = JsonSerializer.Deserialize<LogsResponse>(pageJson, LogQuotaJson.Options)!;
        return Encoding.UTF8.GetString([.. page.Logs.SelectMany(l => l.Message)]);
    }

    private static LockedWrites Synchronized(MemoryStream body) => new(body);

    /// <summary>The frames written so far, each without its blank line.</summary>
    private static List<string> Frames(MemoryStream body)
    {
        string text;
        lock (body)
        {
            text = Encoding.UTF8.GetString(body.ToArray());
        }

        return [.. text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>Writes to a memory stream under its lock, so the test can read what was written while streams write.</summary>
    private sealed class LockedWrites(MemoryStream body) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            lock (body)
            {
                body.Write(buffer, offset, count);
            }
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            lock (body)
            {
                body.Write(buffer.Span);
            }

            return ValueTask.CompletedTask;
        }
    }
}
