using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using LogQuota.Server.Logs;

namespace LogQuota.Server.Apis;

/// <summary>A checked search of a run's log (<c>q</c>, <c>regex</c>, <c>match_case</c>) or look-up of one line (<c>line</c>).</summary>
/// <param name="Target">The pattern, or the line number.</param>
/// <param name="Limit">Matching lines per page.</param>
/// <param name="NextToken">Where the page starts, as issued with the previous page.</param>
internal sealed record LogSearchQuery(LogSearchTarget Target, int Limit, string? NextToken)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>Checks the search values of <paramref name="query"/>; false with the 400's detail for the first bad one.</summary>
    public static bool TryParse(LogsParameters query, [NotNullWhen(true)] out LogSearchQuery? parsed, out string problem)
    {
        parsed = null;
        if (query.Format is not null || query.Source is not null || query.StartTime is not null || query.EndTime is not null ||
            query.Descending is not null || query.Follow is not null || query.Wait is not null || query.Timestamps is not null || query.MaxBytes is not null)
        {
            problem = "q and line read the whole log in order, numbering its lines from 1: they take only regex, match_case, limit and next_token.";
            return false;
        }

        if (!Paging.TryParseLimit(query.Limit, DefaultLimit, MaxLimit, out var limit, out problem) ||
            !Paging.TryParseFlag("regex", query.Regex, out var regex, out problem) ||
            !Paging.TryParseFlag("match_case", query.MatchCase, out var matchCase, out problem))
        {
            return false;
        }

        if (query.Line is { } lineText)
        {
            if (query.Q is not null || query.Regex is not null || query.MatchCase is not null || query.Limit is not null || query.NextToken is not null)
            {
                problem = "line looks up one line by its number; it cannot be combined with q, regex, match_case, limit or next_token.";
                return false;
            }

            long line = LogSearchTarget.LastLine;
            if (lineText != "last" && (!long.TryParse(lineText, NumberStyles.None, CultureInfo.InvariantCulture, out line) || line < 1))
            {
                problem = $"line must be a line number from 1, or last, got '{lineText}'.";
                return false;
            }

            parsed = new LogSearchQuery(new LogSearchTarget(null, line), 1, null);
            return true;
        }

        if (query.Q is null)
        {
            problem = "regex and match_case apply to a search: add q, the text (or regular expression) to look for.";
            return false;
        }

        if (!LogLinePattern.TryCreate(query.Q, regex, matchCase, out var pattern, out problem))
        {
            return false;
        }

        parsed = new LogSearchQuery(new LogSearchTarget(pattern, null), limit, query.NextToken);
        return true;
    }
}
