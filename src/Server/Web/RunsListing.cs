using System.Globalization;
using LogQuota.Server.Apis.Lists;
using LogQuota.Server.Data;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Server.Web;

/// <summary>One page of the runs list as the page shows it.</summary>
/// <param name="Runs">Newest first.</param>
/// <param name="NextToken">The token of the page after this one; null on the last page.</param>
internal sealed record RunsListPage(IReadOnlyList<RunRow> Runs, string? NextToken);

/// <summary>
/// Reads the runs list through the API's own handler, so the page pages, filters and orders exactly as
/// <c>GET /api/runs</c> does. A status filter (which the API lacks) asks the API for only as many rows as are
/// still missing each time, so every row it answers is either shown or filtered out and the next token is exact.
/// </summary>
internal static class RunsListing
{
    /// <summary>What the API's handler reads the list with, for one caller and project.</summary>
    public sealed record Source(ServerDbContext Db, RunsPageTokens Tokens, TeamAccess Access, Caller Caller, string Project);

    /// <summary>API pages read for one page of a status filter: bounds the work of a filter that matches little.</summary>
    private const int MaxReads = 20;

    /// <exception cref="RunsListRefusedException">The API refused the query; the message says why.</exception>
    public static async Task<RunsListPage> ReadAsync(
        Source source, int limit, string? nextToken, bool onlyActive, RunStatus? status, CancellationToken cancellationToken)
    {
        var shown = new List<RunRow>();
        var token = nextToken;
        for (var read = 0; read < MaxReads && shown.Count < limit; read++)
        {
            var page = await ReadApiPageAsync(source, limit - shown.Count, token, onlyActive, cancellationToken);
            shown.AddRange(status is { } only ? page.Runs.Where(r => r.Status == only) : page.Runs);
            token = page.NextToken;
            if (token is null)
            {
                break;
            }
        }

        return new RunsListPage(shown, token);
    }

    private static async Task<RunsListPage> ReadApiPageAsync(
        Source source, int limit, string? nextToken, bool onlyActive, CancellationToken cancellationToken)
    {
        var query = new RunsListParameters(
            limit.ToString(CultureInfo.InvariantCulture), nextToken, onlyActive ? "true" : "false");
        var answer = await RunsListApi.ListRuns(
            new Apis.ProjectRoute(source.Project), query, source.Caller, source.Access, source.Db, source.Tokens, cancellationToken);
        return answer.Result switch
        {
            Ok<RunsPage> page => new RunsListPage(page.Value!.Runs, page.Value.NextToken),
            ProblemHttpResult problem => throw new RunsListRefusedException(
                problem.ProblemDetails.Detail ?? "The runs list refused the query.", problem.StatusCode),
            _ => throw new InvalidOperationException($"The runs list answered {answer.Result.GetType().Name}."),
        };
    }
}

/// <summary>
/// The API refused the list's query (a next_token edited by hand, or one from before a change of filter; a project the
/// caller is not in); the message is its detail.
/// </summary>
internal sealed class RunsListRefusedException(string message, int status) : Exception(message)
{
    /// <summary>The status the API answered (400, 404).</summary>
    public int Status => status;
}
