using LogQuota.Server.Apis.Lists;
using LogQuota.Server.Runs;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>The runs resource (SPEC §4, §10): submit, list, show, stop, delete, in a project; the logs are in <see cref="RunLogsApi"/>.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        // A project's runs, and /api/runs as the main project's alias: the same handlers, whose {project} is then absent.
        // The OpenAPI document lists each operation once, under its project's address; docs/api.md names the alias.
        MapRuns(app.MapGroup("/api/projects/{project}/runs").WithTags("Runs"), "");
        MapRuns(app.MapGroup("/api/runs").ExcludeFromDescription(), "Main");
        return app;
    }

    /// <summary>The runs endpoints on <paramref name="api"/>; <paramref name="names"/> keeps each group's OpenAPI operation ids apart.</summary>
    private static void MapRuns(RouteGroupBuilder api, string names)
    {
        // Route values are named as the README and the OpenAPI document name them ({run_name}); every status an
        // endpoint answers is declared, so /openapi/v1.json lists it with its schema (OpenApiTests checks both).
        // 503: the database cannot be written right now (Data/Faults), with Retry-After.
        api.MapPost("/", SubmitRun).Accepts<SubmitRunRequest>("application/json").WithName($"Submit{names}Run")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/", RunsListApi.ListRuns).WithName($"List{names}Runs").ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/{run_name}", GetRun).WithName($"Get{names}Run").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{run_name}/stop", StopRun).WithName($"Stop{names}Run").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapDelete("/{run_name}", DeleteRun).WithName($"Delete{names}Run")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapRunLogsApi(names);
    }

    public static async Task<Results<Created<RunDetails>, ValidationProblem, ProblemHttpResult>> SubmitRun(
        ProjectRoute project, Caller caller, HttpRequest request, RunsService runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(runs);
        var (body, malformed) = await JsonBody.ReadAsync<SubmitRunRequest>(request, "run", "{\"commands\": [\"echo hello\"]}", cancellationToken);
        if (body is null)
        {
            return malformed!;
        }

        var outcome = await runs.SubmitAsync(caller, project.Name, body, cancellationToken);
        if (outcome.Problem?.RetryAfterSeconds is { } retryAfter)
        {
            request.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return outcome.Problem switch
        {
            { Errors: { } errors } invalid => TypedResults.ValidationProblem(errors, detail: invalid.Detail),
            { } problem => Problem(problem),
            null => TypedResults.Created(
                project.Name is null ? $"/api/runs/{outcome.Run!.RunName}" : $"/api/projects/{project.Name}/runs/{outcome.Run!.RunName}", outcome.Run),
        };
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> GetRun(
        ProjectRoute project, [FromRoute(Name = "run_name")] string runName, Caller caller, RunsService runs,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return Answer(await runs.GetAsync(caller, project.Name, runName, cancellationToken));
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> StopRun(
        ProjectRoute project, [FromRoute(Name = "run_name")] string runName, Caller caller, RunsService runs,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return Answer(await runs.StopAsync(caller, project.Name, runName, cancellationToken));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun(
        ProjectRoute project, [FromRoute(Name = "run_name")] string runName, Caller caller, RunsService runs,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var outcome = await runs.DeleteAsync(caller, project.Name, runName, cancellationToken);
        return outcome.Problem is { } problem ? Problem(problem) : TypedResults.NoContent();
    }

    private static Results<Ok<RunDetails>, ProblemHttpResult> Answer(RunOutcome outcome) =>
        outcome.Problem is { } problem ? Problem(problem) : TypedResults.Ok(outcome.Run!);

    private static ProblemHttpResult Problem(RunProblem problem) => Problem(problem.Status, problem.Detail);

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
