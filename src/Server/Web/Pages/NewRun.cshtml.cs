using LogQuota.Server.Configuration;
using LogQuota.Server.Runs;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web.Pages;

/// <summary>
/// The submit form (<c>/runs/new</c>). The run goes through the runs service that <c>POST /api/runs</c> calls, so the
/// form accepts and refuses exactly what the API does, in the same words.
/// </summary>
public sealed class NewRunModel(RunsService runs, ProjectsService projects, ServerSettings settings) : ProjectPageModel(projects)
{
    internal SubmitForm Form { get; private set; } = new();

    /// <summary>Errors by field (the API's JSON names); "" holds those of no one field.</summary>
    public IReadOnlyDictionary<string, string> Errors { get; private set; } = new Dictionary<string, string>();

    public long ServerQuota => settings.LogQuotaPerJobHour;

    public string ServerAction => WireNames.Of(settings.LogQuotaAction);

    public Task OnGetAsync([FromQuery(Name = "project")] string? project, CancellationToken cancellationToken) =>
        ChooseProjectAsync(project, cancellationToken);

    public async Task<IActionResult> OnPostAsync(
        [FromForm(Name = "project")] string? project,
        [FromForm(Name = "commands")] string? commands, [FromForm(Name = "run_name")] string? runName,
        [FromForm(Name = "log_quota_hour")] string? quota, [FromForm(Name = "log_quota_action")] string? action,
        [FromForm(Name = "max_duration")] string? maxDuration, [FromForm(Name = "env")] string? env,
        [FromForm(Name = "working_dir")] string? workingDir, [FromForm(Name = "tty")] string? tty,
        [FromForm(Name = "cpus")] string? cpus, [FromForm(Name = "memory")] string? memory, [FromForm(Name = "gpus")] string? gpus,
        [FromForm(Name = "secrets")] string? secrets, CancellationToken cancellationToken)
    {
        await ChooseProjectAsync(project, cancellationToken);
        Form = new SubmitForm
        {
            Commands = commands ?? "", RunName = runName ?? "", LogQuotaHour = quota ?? "", LogQuotaAction = action ?? "",
            MaxDuration = maxDuration ?? "", Env = env ?? "", WorkingDir = workingDir ?? "", Tty = tty is not null,
            Cpus = cpus ?? "", Memory = memory ?? "", Gpus = gpus ?? "", Secrets = secrets ?? "",
        };
        var (request, errors) = Form.ToRequest();
        if (request is null)
        {
            return Refused(errors);
        }

        var outcome = await runs.SubmitAsync(Caller, Project, request, cancellationToken);
        return outcome.Problem switch
        {
            null => Redirect($"/runs/{outcome.Run!.RunName}{ProjectQuery}"),
            { Errors: { } invalid } => Refused(invalid.ToDictionary(e => e.Key, e => string.Join(" ", e.Value), StringComparer.Ordinal)),
            { Status: StatusCodes.Status409Conflict } conflict => Refused(new Dictionary<string, string>(StringComparer.Ordinal) { ["run_name"] = conflict.Detail }),
            { } problem => Refused(new Dictionary<string, string>(StringComparer.Ordinal) { [""] = problem.Detail }),
        };
    }

    public string? ErrorFor(string field) => Errors.TryGetValue(field, out var message) ? message : null;

    private PageResult Refused(Dictionary<string, string> errors)
    {
        Errors = errors;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
