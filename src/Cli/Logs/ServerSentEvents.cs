namespace LogQuota.Cli.Logs;

/// <summary>
/// Reads Server-Sent Events frames (<c>event:</c> and <c>data:</c> lines, a blank line ending each), as the server's
/// log stream sends them: one data line per frame, comment lines (<c>: keep-alive</c>) skipped.
/// </summary>
public sealed class ServerSentEvents(TextReader reader)
{
    /// <summary>One frame: its event name (<c>message</c> when it has none) and its data.</summary>
    public sealed record Frame(string Event, string Data);

    /// <summary>The next frame, or null when the stream has ended.</summary>
    public async Task<Frame?> NextAsync(CancellationToken cancellationToken)
    {
        string? name = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
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
