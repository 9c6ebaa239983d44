using LogQuota.Server.Data;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web;

/// <summary>
/// A page about one project's runs: which project it shows (<c>?project=</c>, else <c>main</c> when the caller is in
/// it, else their first), and the caller's projects for the switcher. What the caller may see of it is the runs
/// service's and <see cref="TeamAccess"/>'s to say, as for the API.
/// </summary>
public abstract class ProjectPageModel(ProjectsService projects) : PageModel
{
    /// <summary>The project shown.</summary>
    public string Project { get; private set; } = ProjectEntity.MainName;

    /// <summary>The caller's projects, for the switcher.</summary>
    public IReadOnlyList<ProjectRow> Projects { get; private set; } = [];

    /// <summary>The query string that keeps this project on a link: empty for <c>main</c>, so its addresses stay as they were.</summary>
    public string ProjectQuery => WebProjects.Query(Project);

    /// <summary>Where the page's scripts read this project's runs.</summary>
    public string ApiRuns => WebProjects.ApiRuns(Project);

    /// <summary>The signed-in caller; every page of this kind requires a session.</summary>
    protected Caller Caller => Caller.From(HttpContext) ?? throw new InvalidOperationException("A project page was reached without a session.");

    protected async Task ChooseProjectAsync(string? requested, CancellationToken cancellationToken)
    {
        Projects = (await projects.ListAsync(Caller, cancellationToken)).Projects;
        Project = requested is { Length: > 0 }
            ? requested
            : Projects.Any(p => p.Name == ProjectEntity.MainName) || Projects.Count == 0 ? ProjectEntity.MainName : Projects[0].Name;
        ViewData[WebProjects.SwitcherKey] = this;
    }
}

/// <summary>The web page's project in addresses.</summary>
public static class WebProjects
{
    /// <summary>The ViewData key under which a project page hands itself to the layout's switcher.</summary>
    public const string SwitcherKey = "project-switcher";

    public static string Query(string project) =>
        project == ProjectEntity.MainName ? "" : Microsoft.AspNetCore.Http.QueryString.Create("project", project).ToString();

    /// <summary>Where the page's scripts read the project's runs (<see cref="WebApi"/>).</summary>
    public static string ApiRuns(string project) =>
        project == ProjectEntity.MainName ? "/web/api/runs" : $"/web/api/projects/{Uri.EscapeDataString(project)}/runs";
}
