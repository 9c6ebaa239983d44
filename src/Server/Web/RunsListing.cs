using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;

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
    /// <summary>API pages read for one page of a status filter: bounds the work of a filter that matches little.</summary>
    private const int MaxReads = 20;

    public static async Task<RunsListPage> ReadAsync(
        ServerDbContext db, int limit, string? nextToken, bool onlyActive, RunStatus? status, CancellationToken cancellationToken)
    {
        var shown = new List<RunRow>();
        var token = nextToken;
        for (var read = 0; read < MaxReads && shown.Count < limit; read++)
        {
            var page = await ReadApiPageAsync(db, limit - shown.Count, token, onlyActive, cancellationToken);
            shown.AddRange(status is { } only ? page.Runs.Where(r => r.Status == only) : page.Runs);
            token = page.NextToken;
            if (token is null)
            {
                break;
            }
        }

        return new RunsListPage(shown, token);
    }

    /// <summary>
    /// Until the paginated <c>GET /api/runs</c> lands: the whole list from the current handler, cut here by a
    /// position token. Only this method changes when it lands.
    /// </summary>
    private static async Task<RunsListPage> ReadApiPageAsync(
        ServerDbContext db, int limit, string? nextToken, bool onlyActive, CancellationToken cancellationToken)
    {
        var all = (await RunsApi.ListRuns(db, cancellationToken)).Value!;
        var rows = onlyActive ? all.Where(r => WebFormat.IsActive(r.Status)).ToList() : all;
        var skip = int.TryParse(nextToken, out var at) && at > 0 ? at : 0;
        var page = rows.Skip(skip).Take(limit).ToList();
        return new RunsListPage(page, skip + limit < rows.Count ? (skip + limit).ToString(System.Globalization.CultureInfo.InvariantCulture) : null);
    }
}
