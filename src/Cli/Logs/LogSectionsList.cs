using System.Globalization;
using System.Text;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Logs;

/// <summary>
/// <c>logs RUN --sections</c>: the folds of the log, one a line, as <c>FIRST-LAST  DURATION  TITLE</c> (the line numbers
/// those of <c>--grep</c>; a section still open has no last line), nested ones indented under their parent, and the
/// failing one marked. The log's own text (<c>logs RUN</c>) already holds each section's title as its first line.
/// </summary>
public static class LogSectionsList
{
    public static async Task<int> PrintAsync(IServerApi api, string project, string runName, Stream output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(output);
        var sections = (await api.GetSectionsAsync(project, runName, cancellationToken)).Sections;
        var depth = new Dictionary<int, int>();
        var text = new StringBuilder();
        foreach (var s in sections)
        {
            var level = s.Parent is { } parent && depth.TryGetValue(parent, out var above) ? above + 1 : 0;
            depth[s.Id] = level;
            var lines = s.EndLine is { } end ? $"{s.StartLine}-{Math.Max(s.StartLine, end - 1)}" : $"{s.StartLine}-";
            var time = s.DurationMs < 10_000
                ? string.Create(CultureInfo.InvariantCulture, $"{s.DurationMs / 1000.0:0.0} s")
                : QuotaText.Duration(TimeSpan.FromMilliseconds(s.DurationMs));
            var state = s.Failed ? "  (failed)" : s.EndedAt is null ? "  (running)" : "";
            text.Append(CultureInfo.InvariantCulture, $"{lines,-13} {time,8}  {new string(' ', 2 * level)}{s.Title}{state}\n");
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        await output.WriteAsync(bytes, cancellationToken);
        await output.FlushAsync(cancellationToken);
        return 0;
    }
}
