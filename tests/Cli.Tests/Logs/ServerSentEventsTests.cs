using System.Threading.Channels;
using LogQuota.Cli.Logs;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Cli.Tests.Logs;

/// <summary>
/// The event stream's reader: frames as the server sends them, and its silence counted from the last line of any kind,
/// on a clock the test moves (nothing here waits for real time to pass).
/// </summary>
public sealed class ServerSentEventsTests : IDisposable
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(45);

    private readonly FakeTimeProvider _time = new();
    private readonly LineFeed _feed = new();

    public void Dispose() => _feed.Dispose();

    [Fact]
    public async Task Frames_AreReadWithTheirEventAndData_CommentsSkipped()
    {
        var events = Reader();
        _feed.Send(": keep-alive", "", "event: page", "data: {\"logs\":[]}", "", "data: plain", "");
        _feed.End();

        Assert.Equal(new ServerSentEvents.Frame("page", "{\"logs\":[]}"), await events.NextAsync(CancellationToken.None));
        Assert.Equal(new ServerSentEvents.Frame("message", "plain"), await events.NextAsync(CancellationToken.None));
        Assert.Null(await events.NextAsync(CancellationToken.None));
    }

    [Fact]
    public async Task KeepAlives_KeepAQuietStreamAlive_PastTheIdleSpan()
    {
        var events = Reader();
        var next = events.NextAsync(CancellationToken.None);

        // Four keep-alives 30 s apart (two minutes in all, more than the 45 s span), then a frame: a quiet run's stream
        // is alive all along, and the frame is read, not a time-out. The clock moves only once the reader has taken
        // the keep-alive in and asks for its next line.
        for (var i = 1; i <= 4; i++)
        {
            _feed.Send(": keep-alive", "");
            await _feed.UntilAskedAsync(1 + (2 * i), next);
            _time.Advance(TimeSpan.FromSeconds(30));
        }

        _feed.Send("event: page", "data: {}", "");
        Assert.Equal(new ServerSentEvents.Frame("page", "{}"), await next.WaitAsync(TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task AStreamThatSendsNothing_ForTheIdleSpan_TimesOut_NamingIt()
    {
        var events = Reader();
        var next = events.NextAsync(CancellationToken.None);
        _feed.Send(": keep-alive", "");
        await _feed.UntilAskedAsync(3, next);

        _time.Advance(Idle);

        var timeout = await Assert.ThrowsAsync<TimeoutException>(() => next.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Contains("sent nothing for 45 s", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheCallersCancellation_IsACancellation_NotATimeOut()
    {
        var events = Reader();
        using var cancel = new CancellationTokenSource();
        var next = events.NextAsync(cancel.Token);

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next.WaitAsync(TimeSpan.FromMinutes(1)));
    }

    private ServerSentEvents Reader() => new(_feed, Idle, _time);

    /// <summary>Lines as the server sends them, and how many times the reader has asked for one.</summary>
    private sealed class LineFeed : TextReader
    {
        private readonly Channel<string?> _lines = Channel.CreateUnbounded<string?>();
        private int _asks;

        public void Send(params string[] lines)
        {
            foreach (var line in lines)
            {
                _lines.Writer.TryWrite(line);
            }
        }

        public void End() => _lines.Writer.TryWrite(null);

        public override ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _asks);
            return _lines.Reader.ReadAsync(cancellationToken);
        }

        /// <summary>Waits until the reader has asked for its <paramref name="asks"/>th line: it has handled every line before it.</summary>
        public async Task UntilAskedAsync(int asks, Task reading)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
            while (Volatile.Read(ref _asks) < asks)
            {
                Assert.False(reading.IsCompleted, $"The reader ended after {Volatile.Read(ref _asks)} lines: {reading.Exception?.InnerException?.Message ?? "it read a frame"}");
                Assert.True(DateTime.UtcNow < deadline, $"The reader asked for {Volatile.Read(ref _asks)} lines in a minute, not {asks}.");
                await Task.Delay(10);
            }
        }
    }
}
