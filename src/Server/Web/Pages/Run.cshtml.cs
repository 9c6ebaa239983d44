using LogQuota.Server.Configuration;
using LogQuota.Server.Runs;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Web.Pages;

/// <summary>
/// A run (<c>/runs/{run_name}</c>): status, quota block, events, job spec and the log (drawn by run.js). Stop and
/// delete are form posts through the runs service the API's endpoints call, so they behave exactly as those do.
/// </summary>
public sealed class RunModel(RunsService runs, ProjectsService projects, ServerSettings settings, TimeProvider time) : ProjectPageModel(projects)
{
    public RunDetails? Run { get; private set; }

    public string RunName { get; private set; } = "";

    /// <summary>Why the last stop or delete was refused, in the API's words.</summary>
    public string? ActionError { get; private set; }

    public DateTimeOffset Now { get; private set; }

    public JobSpec? Spec => Run is { Jobs.Count: > 0 } r ? r.Jobs[0].JobSpec : null;

    public IReadOnlyList<int> WarnAt => Spec?.LogQuotaWarnAt ?? settings.LogQuotaWarnAt;

    public bool Active => Run is not null && WebFormat.IsActive(Run.Status);

    public async Task<IActionResult> OnGetAsync(
        [FromRoute(Name = "run_name")] string runName, [FromQuery(Name = "project")] string? project, CancellationToken cancellationToken)
    {
        await ChooseProjectAsync(project, cancellationToken);
        return await ShowAsync(runName, null, cancellationToken);
    }

    public async Task<IActionResult> OnPostStopAsync(
        [FromRoute(Name = "run_name")] string runName, [FromQuery(Name = "project")] string? project, CancellationToken cancellationToken)
    {
        await ChooseProjectAsync(project, cancellationToken);
        var outcome = await runs.StopAsync(Caller, Project, runName, cancellationToken);
        return outcome.Problem is { } problem
            ? await ShowAsync(runName, problem, cancellationToken)
            : Redirect($"/runs/{runName}{ProjectQuery}");
    }

    public async Task<IActionResult> OnPostDeleteAsync(
        [FromRoute(Name = "run_name")] string runName, [FromQuery(Name = "project")] string? project, CancellationToken cancellationToken)
    {
        await ChooseProjectAsync(project, cancellationToken);
        var outcome = await runs.DeleteAsync(Caller, Project, runName, cancellationToken);
        var query = new Dictionary<string, string?>(StringComparer.Ordinal) { ["deleted"] = runName };
        if (ProjectQuery.Length > 0)
        {
            query["project"] = Project;
        }

        return outcome.Problem is { } problem
            ? await ShowAsync(runName, problem, cancellationToken)
            : Redirect("/" + QueryString.Create(query));
    }

    private async Task<IActionResult> ShowAsync(string runName, RunProblem? refused, CancellationToken cancellationToken)
    {
        RunName = runName;
        Now = time.GetUtcNow();
        Run = (await runs.GetAsync(Caller, Project, runName, cancellationToken)).Run;
        ActionError = refused?.Detail;
        if (Run is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        else if (refused is not null)
        {
            Response.StatusCode = refused.Status;
        }

        return Page();
    }
}
