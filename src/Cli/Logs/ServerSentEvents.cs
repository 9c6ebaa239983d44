namespace LogQuota.Cli.Logs;

/// <summary>
/// Reads Server-Sent Events frames (<c>event:</c> and <c>data:</c> lines, a blank line ending each), as the server's
/// log stream sends them: one data line per frame, comment lines (<c>: keep-alive</c>) skipped.
/// </summary>
/// <param name="reader">The stream's text.</param>
/// <param name="idle">How long the stream may send nothing at all before it counts as broken. Every line counts, a
/// comment too: a quiet run's stream carries only the server's keep-alives, and it is alive.</param>
/// <param name="time">The clock of <paramref name="idle"/>.</param>
public sealed class ServerSentEvents(TextReader reader, TimeSpan idle, TimeProvider time)
{
    /// <summary>One frame: its event name (<c>message</c> when it has none) and its data.</summary>
    public sealed record Frame(string Event, string Data);

    /// <summary>The next frame, or null when the stream has ended.</summary>
    /// <exception cref="TimeoutException">The stream sent no line for <c>idle</c>.</exception>
    public async Task<Frame?> NextAsync(CancellationToken cancellationToken)
    {
        using var silence = new CancellationTokenSource(idle, time);
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, silence.Token);
        try
        {
            return await NextAsync(silence, reading.Token);
        }
        catch (OperationCanceledException) when (silence.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The server's event stream sent nothing for {idle.TotalSeconds:0} s.");
        }
    }

    private async Task<Frame?> NextAsync(CancellationTokenSource silence, CancellationToken cancellationToken)
    {
        string? name = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            // Any line says the server is alive: the silence is counted again from here.
            silence.CancelAfter(idle);
            if (line.Length == 0)
            {
                if (name is not null || data is not null)
                {
                    return new Frame(name ?? "message", data ?? "");
                }

                continue;
            }

            if (line[0] == ':')
            {
                continue;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            var field = colon < 0 ? line : line[..colon];
            var value = colon < 0 ? "" : line[(colon + 1)..];
            if (value.StartsWith(' '))
            {
                value = value[1..];
            }

            switch (field)
            {
                case "event":
                    name = value;
                    break;
                case "data":
                    data = data is null ? value : data + "\n" + value;
                    break;
            }
        }

        return null;
    }
}
