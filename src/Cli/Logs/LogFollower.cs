using System.Buffers;
using System.Net.Http.Json;
using System.Text.Json;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Logs;

/// <summary>
/// Copies a run's stored log to a stream as it grows: each read asks for the events after the last one
/// written (<c>start_time</c> is exclusive), so nothing is written twice or skipped; while the run is active the server
/// sends what is stored as it is stored (<c>follow=true</c> as an event stream, or a long poll), never polled on a timer.
/// </summary>
/// <remarks>
/// The run is read before its logs: the server stores a job's logs no later than its final state (one
/// transaction per pull, the final state event after the last log event), so once a finished run has been
/// seen, the logs read after it are complete.
/// </remarks>
/// <param name="live">Draws the run's live region below the stored lines; null where output is not a terminal, and
/// then nothing but the stored bytes is ever written.</param>
/// <param name="markers">Where the runner's own lines (<c>log_source: runner</c>: quota warnings, "quota reached", a
/// drop report and its tail) go instead of <paramref name="output"/>: <c>run</c> puts them on stderr, so the job's
/// output stays the job's. Null: they are written in place, as the log reads.</param>
/// <param name="source">Which events to read: <c>job</c>, <c>runner</c>, or null for all.</param>
/// <param name="view">How the job's events are shown (colour, timestamps); null: their stored bytes.</param>
public sealed class LogFollower(
    IServerApi api, string project, string runName, Stream output, LiveRegionDrawer? live = null, TextWriter? markers = null, string? source = null,
    LogView? view = null) : IDisposable
{
    /// <summary>The least time between two asks when nothing new arrived (a server without <c>follow=true</c> answers at once).</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    /// <summary>How long the event stream may send nothing, not even a keep-alive (the server sends one after 15 s of
    /// silence), before it counts as broken.</summary>
    public static readonly TimeSpan StreamIdle = TimeSpan.FromSeconds(45);

    /// <summary>Bytes gathered before a write while drawing: a page of a thousand long lines is not held whole.</summary>
    private const int FlushBytes = 64 * 1024;

    // One writer at a time: the follow loop's pages and a resize's redraw, which comes on the signal's thread.
    private readonly SemaphoreSlim _writing = new(1, 1);

    private DateTimeOffset? _last;

    /// <summary>True when something was written and its last byte was not a line end (a prompt-less last line).</summary>
    public bool EndsMidLine { get; private set; }

    /// <inheritdoc />
    public void Dispose() => _writing.Dispose();

    /// <summary>Reads the run, then writes every log event stored since the previous call.</summary>
    /// <returns>The run as it was before its logs were read.</returns>
    private async Task<RunRow> PollAsync(CancellationToken cancellationToken)
    {
        var run = await api.GetRunAsync(project, runName, cancellationToken);
        await CopyNewEventsAsync(null, cancellationToken);
        return run;
    }

    /// <summary>Follows until the run has finished and its whole log is written.</summary>
    /// <returns>The finished run.</returns>
    public Task<RunRow> FollowAsync(TimeProvider time, CancellationToken cancellationToken) => FollowAsync(time, cancellationToken, cancellationToken);

    /// <summary>
    /// Follows until the run has finished and its whole log is written: over one event stream (<c>follow=true</c> with
    /// <c>Accept: text/event-stream</c>; a frame per commit, no request per commit), opened again from the last event
    /// written when it breaks; by long polls from a server without the stream.
    /// </summary>
    /// <param name="time">The clock of the pauses between asks.</param>
    /// <param name="waitToken">Cancels following (Ctrl-C) between writes: what was received is written whole or not at all.</param>
    /// <param name="cancellationToken">Cancels everything.</param>
    /// <returns>The finished run.</returns>
    public async Task<RunRow> FollowAsync(TimeProvider time, CancellationToken waitToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var streams = true;
        while (true)
        {
            var run = await PollAsync(cancellationToken);
            if (run.Status.IsFinished())
            {
                return run;
            }

            if (!streams)
            {
                await WaitForMoreAsync(time, waitToken, cancellationToken);
                continue;
            }

            switch (await StreamAsync(time, waitToken, cancellationToken))
            {
                case StreamEnd.Unsupported:
                    streams = false;
                    break;
                case StreamEnd.Broken:
                    await Task.Delay(PollInterval, time, waitToken);
                    break;
            }
        }
    }

    /// <summary>How the event stream ended.</summary>
    private enum StreamEnd
    {
        /// <summary>The run ended and every event was sent (<c>event: end</c>).</summary>
        Ended,

        /// <summary>It broke (the server restarted, a proxy cut it, it stayed silent past <see cref="StreamIdle"/>).</summary>
        Broken,

        /// <summary>The server answered a JSON page instead: it has no stream (older than this CLI).</summary>
        Unsupported,
    }

    /// <summary>Reads the event stream from after the last event written, writing each page as it comes.</summary>
    private async Task<StreamEnd> StreamAsync(TimeProvider time, CancellationToken waitToken, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await api.StreamLogsAsync(project, runName, new LogsQuery { StartTime = After, Source = source, Follow = true }, waitToken);
        }
        catch (HttpRequestException) when (!waitToken.IsCancellationRequested)
        {
            // The next read of the run says in the CLI's words whether the server is gone.
            return StreamEnd.Broken;
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw new ServerAnswerException(response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
            }

            if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
            {
                // A long poll's answer: its page is as good as a frame.
                var page = await response.Content.ReadFromJsonAsync<LogsResponse>(LogQuotaJson.Options, cancellationToken);
                if (page is not null)
                {
                    await WritePageAsync(page, cancellationToken);
                }

                return StreamEnd.Unsupported;
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            var frames = new ServerSentEvents(reader, StreamIdle, time);
            while (true)
            {
                ServerSentEvents.Frame? frame;
                try
                {
                    frame = await frames.NextAsync(waitToken);
                }
                catch (Exception e) when (!waitToken.IsCancellationRequested && e is IOException or HttpRequestException or OperationCanceledException or TimeoutException)
                {
                    return StreamEnd.Broken;
                }

                switch (frame?.Event)
                {
                    case null:
                        return StreamEnd.Broken;
                    case "page":
                        await WritePageAsync(JsonSerializer.Deserialize<LogsResponse>(frame.Data, LogQuotaJson.Options)!, cancellationToken);
                        break;
                    case "end":
                        return StreamEnd.Ended;
                }
            }
        }
    }

    /// <summary>
    /// Asks the server to answer when something after the last written event is stored (<c>follow=true</c>, a long poll
    /// the server answers when the run is stored, not on a timer) and writes what it answers.
    /// </summary>
    /// <param name="time">The clock of the floor between two asks (<see cref="PollInterval"/>), for a server that answers at once.</param>
    /// <param name="waitToken">Cancels the wait only (Ctrl-C while waiting): what was answered is written whole or not at all.</param>
    /// <param name="cancellationToken">Cancels everything.</param>
    private async Task WaitForMoreAsync(TimeProvider time, CancellationToken waitToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        var started = time.GetTimestamp();
        var written = await CopyNewEventsAsync(waitToken, cancellationToken);

        // A server older than follow=true answers at once: ask it no more often than a poll did.
        var left = PollInterval - time.GetElapsedTime(started);
        if (written == 0 && left > TimeSpan.Zero)
        {
            await Task.Delay(left, time, waitToken);
        }
    }

    /// <summary>Erases the live region from the terminal (before a prompt or a summary, or when following ends).</summary>
    public Task EraseLiveAsync(CancellationToken cancellationToken) => WriteLiveAsync(static (d, b) => d.Erase(b), cancellationToken);

    /// <summary>Leaves the live region drawn and puts the cursor below it: following stopped before the run ended.</summary>
    public Task LeaveLiveAsync(CancellationToken cancellationToken) => WriteLiveAsync(static (d, b) => d.Leave(b), cancellationToken);

    /// <summary>
    /// The terminal was resized: the live region on screen is drawn again at the new width now, not with the next page
    /// (which a quiet run may not send for minutes). Called on the resize signal's thread; a write that fails is left
    /// to the follow loop, which meets the same failure at its next write.
    /// </summary>
    public void Resized() => _ = RedrawAsync();

    private async Task RedrawAsync()
    {
        try
        {
            await WriteLiveAsync(static (d, b) => d.Redraw(b), CancellationToken.None);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            // Output is gone (a closed terminal, a command that has ended): there is nothing to redraw on.
        }
    }

    private async Task WriteLiveAsync(Action<LiveRegionDrawer, ArrayBufferWriter<byte>> step, CancellationToken cancellationToken)
    {
        if (live is null)
        {
            return;
        }

        await _writing.WaitAsync(cancellationToken);
        try
        {
            if (live.DrawnRows == 0)
            {
                return;
            }

            var buffer = new ArrayBufferWriter<byte>();
            step(live, buffer);
            await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
            await output.FlushAsync(cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>
    /// Writes a runner line to <c>markers</c>. Where a live region is drawn on the same terminal, it is erased first
    /// (and redrawn below after the page), so the marker is not drawn over it.
    /// </summary>
    private async Task WriteMarkerAsync(ArrayBufferWriter<byte>? buffer, byte[] message, CancellationToken cancellationToken)
    {
        if (buffer is not null)
        {
            if (live!.DrawnRows > 0)
            {
                live.Erase(buffer);
            }

            await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
            await output.FlushAsync(cancellationToken);
            buffer.ResetWrittenCount();
        }

        // Decoded for a text stream: markers are the runner's UTF-8; a dropped tail's invalid bytes show as U+FFFD.
        await markers!.WriteAsync(System.Text.Encoding.UTF8.GetString(message).AsMemory(), cancellationToken);
        await markers.FlushAsync(cancellationToken);
    }

    /// <summary>Writes the events stored after the last one written; returns how many.</summary>
    /// <param name="followToken">Non-null: the first page is a long poll (<c>follow=true</c>), cancelled by this token.</param>
    /// <param name="cancellationToken">Cancels everything.</param>
    private async Task<int> CopyNewEventsAsync(CancellationToken? followToken, CancellationToken cancellationToken)
    {
        var written = 0;
        while (true)
        {
            var page = await api.GetLogsAsync(
                project, runName,
                new LogsQuery { StartTime = After, Source = source, Follow = followToken is null ? null : true },
                followToken ?? cancellationToken);
            followToken = null;
            written += page.Logs.Count;
            if (!await WritePageAsync(page, cancellationToken))
            {
                return written;
            }
        }
    }

    /// <summary>Where the next read starts: after the last event written (<c>start_time</c> is exclusive).</summary>
    private string? After => _last is { } last ? UtcMillisecondsDateTimeOffsetConverter.ToWire(last) : null;

    /// <summary>Writes one page; true when it is full, which says more is stored already.</summary>
    private async Task<bool> WritePageAsync(LogsResponse page, CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            return await WriteWholePageAsync(page, cancellationToken);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>Writes one page while no redraw can come between its writes.</summary>
    private async Task<bool> WriteWholePageAsync(LogsResponse page, CancellationToken cancellationToken)
    {
        var buffer = live is null ? null : new ArrayBufferWriter<byte>();
        foreach (var e in page.Logs)
        {
            _last = e.Timestamp;
            if (markers is not null && e.LogSource == LogSource.Runner)
            {
                await WriteMarkerAsync(buffer, e.Message, cancellationToken);
                continue;
            }

            var shown = view?.Render(e) ?? e.Message;
            if (buffer is null)
            {
                await output.WriteAsync(shown, cancellationToken);
            }
            else
            {
                live!.WriteStored(buffer, shown.Span);
                if (buffer.WrittenCount >= FlushBytes)
                {
                    await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
                    buffer.ResetWrittenCount();
                }
            }

            if (e.Message.Length > 0)
            {
                EndsMidLine = e.Message[^1] != (byte)'\n';
            }
        }

        // A full page says more is stored already; the next page starts after its last event.
        var more = page.NextToken is not null && page.Logs.Count > 0;
        if (buffer is not null)
        {
            // The live region belongs below the newest stored line: it is drawn once the last page is written.
            if (!more)
            {
                live!.DrawLive(buffer, page.Live);
            }

            // The erase, the new lines and the redraw reach the terminal in one write (a long page: in 64 KiB ones).
            await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
            buffer.ResetWrittenCount();
        }

        await output.FlushAsync(cancellationToken);
        return more;
    }
}
