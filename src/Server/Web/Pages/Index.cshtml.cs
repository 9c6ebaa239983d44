using LogQuota.Server.Apis.Lists;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Web.Pages;

/// <summary>The runs list (<c>/</c>): ps as a table, newest first, a page at a time, with quota usage bars.</summary>
public sealed class IndexModel(
    ServerDbContext db, RunsPageTokens tokens, TeamAccess access, ProjectsService projects, ServerSettings settings, TimeProvider time)
    : ProjectPageModel(projects)
{
    /// <summary>Rows per page: a screenful or two, and one bounded read of the API.</summary>
    public const int PageSize = 50;

    public IReadOnlyList<RunRow> Runs { get; private set; } = [];

    public string? NextToken { get; private set; }

    public bool OnlyActive { get; private set; }

    public RunStatus? Status { get; private set; }

    public bool FirstPage { get; private set; }

    /// <summary>Set after a delete from the run page: the name of the run that is gone.</summary>
    public string? Deleted { get; private set; }

    public DateTimeOffset Now { get; private set; }

    /// <summary>Why the API refused this page's query (a next_token from another filter), in its words.</summary>
    public string? Refused { get; private set; }

    public IReadOnlyList<int> WarnAt => settings.LogQuotaWarnAt;

    /// <summary>The project's hourly log budget and this hour's usage; null when it has none.</summary>
    public ProjectBudgetStatus? Budget { get; private set; }

    public bool AnyActive => Runs.Any(r => WebFormat.IsActive(r.Status));

    public async Task OnGetAsync(
        [FromQuery(Name = "active")] string? active, [FromQuery(Name = "status")] string? status,
        [FromQuery(Name = "next_token")] string? nextToken, [FromQuery(Name = "deleted")] string? deleted,
        [FromQuery(Name = "project")] string? project, CancellationToken cancellationToken)
    {
        await ChooseProjectAsync(project, cancellationToken);
        OnlyActive = active is "1" or "true" or "on";

        // An unknown status in a hand-edited URL shows every status rather than an error page.
        Status = WireNames.TryParse<RunStatus>(status, out var chosen) ? chosen : null;
        FirstPage = string.IsNullOrEmpty(nextToken);
        // Only a run name is echoed back: the message cannot be made to say anything else.
        Deleted = deleted is not null && Apis.RunNames.IsValid(deleted) ? deleted : null;
        Now = time.GetUtcNow();
        if ((await access.ProjectAsync(Caller, Project, cancellationToken)).Access is { } reached)
        {
            Budget = await Budgets.BudgetReads.StatusAsync(db, reached.ProjectId, Now, cancellationToken);
        }

        try
        {
            var page = await RunsListing.ReadAsync(
                new RunsListing.Source(db, tokens, access, Caller, Project), PageSize, nextToken, OnlyActive, Status, cancellationToken);
            Runs = page.Runs;
            NextToken = page.NextToken;
        }
        catch (RunsListRefusedException e)
        {
            Refused = e.Message;
            Response.StatusCode = e.Status;
        }
    }

    /// <summary>The query string of this list's filters, with <paramref name="nextToken"/> for another page.</summary>
    public string Link(string? nextToken)
    {
        var query = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (ProjectQuery.Length > 0)
        {
            query["project"] = Project;
        }

        if (OnlyActive)
        {
            query["active"] = "1";
        }

        if (Status is { } s)
        {
            query["status"] = WireNames.Of(s);
        }

        if (nextToken is not null)
        {
            query["next_token"] = nextToken;
        }

        return "/" + Microsoft.AspNetCore.Http.QueryString.Create(query);
    }
}
