using System.Text.Json;
using LogQuota.Hosting;
using LogQuota.Server.Apis.Lists;
using LogQuota.Server.Runs;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>The runs resource (SPEC §4): submit, list, show, stop, delete; the logs are in <see cref="RunLogsApi"/>.</summary>
public static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        // Route values are named as the README and the OpenAPI document name them ({run_name}); every status an
        // endpoint answers is declared, so /openapi/v1.json lists it with its schema (OpenApiTests checks both).
        var api = app.MapGroup("/api/runs").WithTags("Runs");
        // 503: the database cannot be written right now (Data/Faults), with Retry-After.
        api.MapPost("/", SubmitRun).Accepts<SubmitRunRequest>("application/json").WithName("SubmitRun")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapGet("/", RunsListApi.ListRuns).WithName("ListRuns").ProducesProblem(StatusCodes.Status400BadRequest);
        api.MapGet("/{run_name}", GetRun).WithName("GetRun").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPost("/{run_name}/stop", StopRun).WithName("StopRun").ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapDelete("/{run_name}", DeleteRun).WithName("DeleteRun")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapRunLogsApi();
        return app;
    }

    public static async Task<Results<Created<RunDetails>, ValidationProblem, ProblemHttpResult>> SubmitRun(
        HttpRequest request, RunsService runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(runs);

        // The body is read here rather than bound, so a malformed one gets a detail saying what is wrong
        // and where, and unknown fields are refused (strict options).
        if (!request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON, sent with Content-Type: application/json.");
        }

        if (request.ContentLength > JobSpecRules.MaxBodyBytes)
        {
            return TooLarge();
        }

        SubmitRunRequest? body;
        try
        {
            body = await JsonBody.ReadAsync<SubmitRunRequest>(request, JobSpecRules.MaxBodyBytes, cancellationToken);
        }
        catch (BodyTooLargeException)
        {
            return TooLarge();
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body is not a valid run: {JsonErrors.Describe(e, typeof(SubmitRunRequest), LogQuotaJson.StrictOptions)}");
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits and malformed framing: 413, 400.
            return Problem(e.StatusCode, e.Message);
        }

        if (body is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body must be a JSON object such as {\"commands\": [\"echo hello\"]}.");
        }

        var outcome = await runs.SubmitAsync(body, cancellationToken);
        if (outcome.Problem?.RetryAfterSeconds is { } retryAfter)
        {
            request.HttpContext.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return outcome.Problem switch
        {
            { Errors: { } errors } invalid => TypedResults.ValidationProblem(errors, detail: invalid.Detail),
            { } problem => Problem(problem),
            null => TypedResults.Created($"/api/runs/{outcome.Run!.RunName}", outcome.Run),
        };
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> GetRun(
        [FromRoute(Name = "run_name")] string runName, RunsService runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return Answer(await runs.GetAsync(runName, cancellationToken));
    }

    public static async Task<Results<Ok<RunDetails>, ProblemHttpResult>> StopRun(
        [FromRoute(Name = "run_name")] string runName, RunsService runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        return Answer(await runs.StopAsync(runName, cancellationToken));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRun(
        [FromRoute(Name = "run_name")] string runName, RunsService runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        var outcome = await runs.DeleteAsync(runName, cancellationToken);
        return outcome.Problem is { } problem ? Problem(problem) : TypedResults.NoContent();
    }

    private static Results<Ok<RunDetails>, ProblemHttpResult> Answer(RunOutcome outcome) =>
        outcome.Problem is { } problem ? Problem(problem) : TypedResults.Ok(outcome.Run!);

    private static ProblemHttpResult Problem(RunProblem problem) => Problem(problem.Status, problem.Detail);

    private static ProblemHttpResult TooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {JobSpecRules.MaxBodyBytes} bytes.");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
