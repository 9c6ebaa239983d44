using LogQuota.Server.Configuration;
using LogQuota.Server.Runs;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web.Pages;

/// <summary>
/// The submit form (<c>/runs/new</c>). The run goes through the runs service that <c>POST /api/runs</c> calls, so the
/// form accepts and refuses exactly what the API does, in the same words. A field the form cannot read (a quota that
/// is not a size) is left out of the request and the service checks the rest, so every field is answered in one round.
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
        [FromForm(Name = "columns")] string? columns, [FromForm(Name = "secrets")] string? secrets, CancellationToken cancellationToken)
    {
        await ChooseProjectAsync(project, cancellationToken);
        Form = new SubmitForm
        {
            Commands = commands ?? "", RunName = runName ?? "", LogQuotaHour = quota ?? "", LogQuotaAction = action ?? "",
            MaxDuration = maxDuration ?? "", Env = env ?? "", WorkingDir = workingDir ?? "", Tty = tty is not null,
            Cpus = cpus ?? "", Memory = memory ?? "", Gpus = gpus ?? "", Columns = columns ?? "", Secrets = secrets ?? "",
        };
        var (request, unreadable) = Form.ToRequest();
        var outcome = unreadable.Count == 0
            ? await runs.SubmitAsync(Caller, Project, request, cancellationToken)
            : await runs.CheckAsync(Caller, Project, request, cancellationToken);
        var errors = outcome.Problem switch
        {
            null => new Dictionary<string, string>(StringComparer.Ordinal),
            { Errors: { } invalid } => invalid.ToDictionary(e => e.Key, e => string.Join(" ", e.Value), StringComparer.Ordinal),
            { Status: StatusCodes.Status409Conflict } conflict => new Dictionary<string, string>(StringComparer.Ordinal) { ["run_name"] = conflict.Detail },
            { } problem => new Dictionary<string, string>(StringComparer.Ordinal) { [""] = problem.Detail },
        };

        // What the form could not read is said in its words; the service saw those fields as not given.
        foreach (var (field, message) in unreadable)
        {
            errors[field] = message;
        }

        return errors.Count == 0 ? Redirect($"/runs/{outcome.Run!.RunName}{ProjectQuery}") : Refused(errors);
    }

    public string? ErrorFor(string field) => Errors.TryGetValue(field, out var message) ? message : null;

    private PageResult Refused(Dictionary<string, string> errors)
    {
        Errors = errors;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
