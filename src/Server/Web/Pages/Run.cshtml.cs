using LogQuota.Server.Apis;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web.Pages;

/// <summary>
/// A run (<c>/runs/{run_name}</c>): status, quota block, events, job spec and the log (drawn by run.js). Stop and
/// delete are form posts through the API's own handlers, so they behave exactly as the API's endpoints do.
/// </summary>
public sealed class RunModel(ServerDbContext db, ServerSettings settings, TimeProvider time) : PageModel
{
    public RunDetails? Run { get; private set; }

    public string RunName { get; private set; } = "";

    /// <summary>Why the last stop or delete was refused, in the API's words.</summary>
    public string? ActionError { get; private set; }

    public DateTimeOffset Now { get; private set; }

    public JobSpec? Spec => Run is { Jobs.Count: > 0 } r ? r.Jobs[0].JobSpec : null;

    public IReadOnlyList<int> WarnAt => Spec?.LogQuotaWarnAt ?? settings.LogQuotaWarnAt;

    public bool Active => Run is not null && WebFormat.IsActive(Run.Status);

    public async Task<IActionResult> OnGetAsync([FromRoute(Name = "run_name")] string runName, CancellationToken cancellationToken) =>
        await ShowAsync(runName, null, cancellationToken);

    public async Task<IActionResult> OnPostStopAsync([FromRoute(Name = "run_name")] string runName, CancellationToken cancellationToken)
    {
        var result = await RunsApi.StopRun(runName, db, time, cancellationToken);
        return result.Result is ProblemHttpResult problem
            ? await ShowAsync(runName, problem, cancellationToken)
            : RedirectToPage("/Run", new { run_name = runName });
    }

    public async Task<IActionResult> OnPostDeleteAsync([FromRoute(Name = "run_name")] string runName, CancellationToken cancellationToken)
    {
        var result = await RunsApi.DeleteRun(runName, db, settings, cancellationToken);
        return result.Result is ProblemHttpResult problem
            ? await ShowAsync(runName, problem, cancellationToken)
            : Redirect("/" + QueryString.Create("deleted", runName));
    }

    private async Task<IActionResult> ShowAsync(string runName, ProblemHttpResult? refused, CancellationToken cancellationToken)
    {
        RunName = runName;
        Now = time.GetUtcNow();
        db.ChangeTracker.Clear();
        var found = await RunsApi.GetRun(runName, db, cancellationToken);
        Run = (found.Result as Ok<RunDetails>)?.Value;
        ActionError = refused?.ProblemDetails.Detail;
        if (Run is null)
        {
            Response.StatusCode = StatusCodes.Status404NotFound;
        }
        else if (refused is not null)
        {
            Response.StatusCode = refused.StatusCode;
        }

        return Page();
    }
}
