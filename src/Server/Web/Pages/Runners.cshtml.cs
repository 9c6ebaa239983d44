using LogQuota.Server.Runners;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web.Pages;

/// <summary>
/// The runners tab (<c>/runners</c>): every runner with its state, jobs against its capacity and isolation; a form to add
/// one and a drain and a remove button per runner. Every change goes through the runners service the API calls, so the
/// page accepts and refuses what the API does, in the same words.
/// </summary>
public sealed class RunnersModel(RunnersService runners) : PageModel
{
    public IReadOnlyList<RunnerView> Runners { get; private set; } = [];

    /// <summary>What the last change did, in words; null when none was made.</summary>
    public string? Done { get; private set; }

    /// <summary>Why the last change was refused, in the service's words.</summary>
    public string? Refused { get; private set; }

    public string AddUrl { get; private set; } = "";

    public string AddName { get; private set; } = "";

    /// <summary>Runners are the installation's: only a global admin sees or changes them, as through the API.</summary>
    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (TeamAccess.MayManageRunners(Caller.From(HttpContext)) is { } refused)
        {
            context.Result = new ContentResult { Content = refused.Detail, ContentType = "text/plain; charset=utf-8", StatusCode = refused.Status };
            return;
        }

        await next();
    }

    public async Task OnGetAsync([FromQuery(Name = "done")] string? done, CancellationToken cancellationToken)
    {
        // Only a known runner's name is echoed back: the notice cannot be made to say anything else.
        Runners = (await runners.ListAsync(cancellationToken)).Runners;
        Done = done switch
        {
            { } name when name.StartsWith("removed:", StringComparison.Ordinal) && Apis.RunNames.IsValid(name[8..]) => $"Runner {name[8..]} was removed.",
            { } name when Runners.Any(r => r.Name == name) => $"Runner {name} is {WireNames.Of(Runners.Single(r => r.Name == name).State)}.",
            _ => null,
        };
    }

    public async Task<IActionResult> OnPostAddAsync([FromForm(Name = "url")] string? url, [FromForm(Name = "name")] string? name, CancellationToken cancellationToken)
    {
        AddUrl = url ?? "";
        AddName = name ?? "";
        var outcome = await runners.AddAsync(new AddRunnerRequest(AddUrl, string.IsNullOrWhiteSpace(name) ? null : name.Trim()), cancellationToken);
        return await AnswerAsync(outcome, outcome.Runner?.Name, cancellationToken);
    }

    public async Task<IActionResult> OnPostDrainAsync([FromForm(Name = "runner")] string? runner, CancellationToken cancellationToken) =>
        await AnswerAsync(await runners.DrainAsync(runner ?? "", cancellationToken), runner, cancellationToken);

    public async Task<IActionResult> OnPostRemoveAsync([FromForm(Name = "runner")] string? runner, CancellationToken cancellationToken) =>
        await AnswerAsync(await runners.RemoveAsync(runner ?? "", cancellationToken), $"removed:{runner}", cancellationToken);

    private async Task<IActionResult> AnswerAsync(RunnerOutcome outcome, string? done, CancellationToken cancellationToken)
    {
        if (outcome.Problem is null)
        {
            // Post, then redirect: a reload does not repeat the change.
            return Redirect("/runners" + QueryString.Create("done", done ?? ""));
        }

        Refused = outcome.Problem.Detail;
        Runners = (await runners.ListAsync(cancellationToken)).Runners;
        Response.StatusCode = outcome.Problem.Status;
        return Page();
    }
}
