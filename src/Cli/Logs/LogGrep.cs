using System.Text;
using LogQuota.Shared.Api;

namespace LogQuota.Cli.Logs;

/// <summary><c>logs RUN --grep PATTERN</c>: the server's search, a page at a time, each matching line printed as grep -n
/// prints it (<c>NUMBER:TEXT</c>). The server reads the log; only a page of matches is ever held here.</summary>
public static class LogGrep
{
    /// <summary>Matches asked per page: a few hundred kilobytes of answer at most for ordinary lines.</summary>
    private const int PageSize = 500;

    /// <summary>Prints every match; the exit code is grep's: 0 when a line matched, 1 when none did.</summary>
    public static async Task<int> PrintAsync(
        IServerApi api, string project, string runName, string pattern, bool regex, bool matchCase, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(output);
        using var writer = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024, leaveOpen: true);
        writer.NewLine = "\n";
        var matched = false;
        string? token = null;
        do
        {
            var page = await api.SearchLogsAsync(
                project,
                runName,
                new LogSearchRequest { Q = pattern, Regex = regex ? true : null, MatchCase = matchCase ? true : null, Limit = PageSize, NextToken = token },
                cancellationToken);
            foreach (var line in page.Matches)
            {
                matched = true;
                await writer.WriteLineAsync($"{line.Line}:{line.Text}".AsMemory(), cancellationToken);
            }

            await writer.FlushAsync(cancellationToken);
            token = page.NextToken;
        }
        while (token is not null);

        return matched ? 0 : 1;
    }
}
