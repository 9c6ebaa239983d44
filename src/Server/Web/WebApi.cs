using LogQuota.Server.Apis;

namespace LogQuota.Server.Web;

/// <summary>
/// What the page's scripts read while following a run: the API's own handlers for a run and its logs, behind the
/// session cookie instead of the bearer token. Read-only (GET), so a forged cross-site request could change nothing
/// even if it carried the cookie, which SameSite=Strict already withholds; and no CORS is offered, so another
/// origin cannot read the answers. <c>/api/</c> keeps requiring the bearer token: a cookie opens nothing there.
/// </summary>
internal static class WebApi
{
    private const string Prefix = "/web/api";

    public static bool Owns(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);

    public static IEndpointRouteBuilder MapWebApi(this IEndpointRouteBuilder app)
    {
        // A project's runs, and /web/api/runs as main's, as the API has them.
        foreach (var runs in new[] { Prefix + "/projects/{project}/runs", Prefix + "/runs" })
        {
            var web = app.MapGroup(runs).RequireAuthorization(WebPage.SessionPolicy).ExcludeFromDescription();
            web.MapGet("/{run_name}", RunsApi.GetRun);
            web.MapGet("/{run_name}/logs", RunLogsApi.GetLogs);
            web.MapGet("/{run_name}/sections", RunSectionsApi.GetSections);
        }

        return app;
    }
}
