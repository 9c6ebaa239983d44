using Refit;

namespace LogQuota.Shared.Api;

/// <summary>Query of a search of a run's log, <c>GET /api/runs/{run_name}/logs?q=...</c>.</summary>
public sealed class LogSearchRequest
{
    /// <summary>The text to look for in each line (a substring), or a .NET regular expression when <see cref="Regex"/>.</summary>
    [AliasAs("q")]
    public string? Q { get; init; }

    /// <summary>True: <see cref="Q"/> is a regular expression, run with a time limit per line.</summary>
    [AliasAs("regex")]
    public bool? Regex { get; init; }

    /// <summary>True: upper and lower case differ (the default ignores case).</summary>
    [AliasAs("match_case")]
    public bool? MatchCase { get; init; }

    /// <summary>Matching lines per page, 1 to 1000 (the server's default 100).</summary>
    [AliasAs("limit")]
    public int? Limit { get; init; }

    /// <summary>The <c>next_token</c> of the previous page.</summary>
    [AliasAs("next_token")]
    public string? NextToken { get; init; }
}
