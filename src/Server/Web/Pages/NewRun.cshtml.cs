using System.Text.Json;
using LogQuota.Server.Apis;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Runners;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web.Pages;

/// <summary>
/// The submit form (<c>/runs/new</c>). The run goes through the API's own submit handler, JSON body and all, so the
/// form accepts and refuses exactly what <c>POST /api/runs</c> does, in the same words.
/// </summary>
public sealed class NewRunModel(ServerDbContext db, ServerSettings settings, TimeProvider time, ILoggerFactory loggers) : PageModel
{
    internal SubmitForm Form { get; private set; } = new();

    /// <summary>Errors by field (the API's JSON names); "" holds those of no one field.</summary>
    public IReadOnlyDictionary<string, string> Errors { get; private set; } = new Dictionary<string, string>();

    public long ServerQuota => settings.LogQuotaPerJobHour;

    public string ServerAction => WebFormat.Snake(settings.LogQuotaAction);

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(
        [FromForm(Name = "commands")] string? commands, [FromForm(Name = "run_name")] string? runName,
        [FromForm(Name = "log_quota_hour")] string? quota, [FromForm(Name = "log_quota_action")] string? action,
        [FromForm(Name = "max_duration")] string? maxDuration, [FromForm(Name = "env")] string? env,
        [FromForm(Name = "working_dir")] string? workingDir, [FromForm(Name = "tty")] string? tty,
        [FromForm(Name = "cpus")] string? cpus, [FromForm(Name = "memory")] string? memory, [FromForm(Name = "gpus")] string? gpus, CancellationToken cancellationToken)
    {
        Form = new SubmitForm
        {
            Commands = commands ?? "", RunName = runName ?? "", LogQuotaHour = quota ?? "", LogQuotaAction = action ?? "",
            MaxDuration = maxDuration ?? "", Env = env ?? "", WorkingDir = workingDir ?? "", Tty = tty is not null,
            Cpus = cpus ?? "", Memory = memory ?? "", Gpus = gpus ?? "",
        };
        var (request, errors) = Form.ToRequest();
        if (request is null)
        {
            return Refused(errors);
        }

        var result = await SubmitAsync(request, cancellationToken);
        switch (result.Result)
        {
            case Created<RunDetails> created:
                return Redirect($"/runs/{created.Value!.RunName}");
            case ValidationProblem invalid:
                return Refused(invalid.ProblemDetails.Errors.ToDictionary(e => e.Key, e => string.Join(" ", e.Value), StringComparer.Ordinal));
            case ProblemHttpResult { StatusCode: StatusCodes.Status409Conflict } conflict:
                return Refused(new Dictionary<string, string>(StringComparer.Ordinal) { ["run_name"] = conflict.ProblemDetails.Detail ?? "" });
            case ProblemHttpResult problem:
                return Refused(new Dictionary<string, string>(StringComparer.Ordinal) { [""] = problem.ProblemDetails.Detail ?? "" });
            default:
                throw new InvalidOperationException($"The submit handler answered {result.Result.GetType().Name}.");
        }
    }

    public string? ErrorFor(string field) => Errors.TryGetValue(field, out var message) ? message : null;

    /// <summary>The request as the API would receive it: serialized and parsed again by the handler itself.</summary>
    private Task<Results<Created<RunDetails>, ValidationProblem, ProblemHttpResult>> SubmitAsync(SubmitRunRequest request, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(request, LogQuotaJson.Options);
        var api = new DefaultHttpContext { RequestServices = HttpContext.RequestServices };
        api.Request.ContentType = "application/json";
        api.Request.ContentLength = body.Length;
        api.Request.Body = new MemoryStream(body);
        // RunnerCapacities is internal to the server, and so cannot be a public page's constructor parameter.
        var capacities = HttpContext.RequestServices.GetRequiredService<RunnerCapacities>();
        return RunsApi.SubmitRun(api.Request, db, settings, capacities, time, loggers, cancellationToken);
    }

    private PageResult Refused(Dictionary<string, string> errors)
    {
        Errors = errors;
        Response.StatusCode = StatusCodes.Status400BadRequest;
        return Page();
    }
}
