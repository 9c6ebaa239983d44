using System.Text.Json;
using LogQuota.Hosting;
using LogQuota.Server.Runners;
using LogQuota.Server.Runs;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>The runners resource: list, add, drain, remove runners at run time (<see cref="RunnersService"/>).</summary>
public static class RunnersApi
{
    /// <summary>A runner's URL and name fit in far less; a larger body is not one.</summary>
    private const int MaxBodyBytes = 16 * 1024;

    public static IEndpointRouteBuilder MapRunnersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/runners").WithTags("Runners").ProducesProblem(StatusCodes.Status403Forbidden)
            .AddEndpointFilter(async (context, next) =>
                TeamAccess.MayManageRunners(Caller.From(context.HttpContext)) is { } refused ? Problem(refused) : await next(context));
        // 503: the database cannot be written right now (Data/Faults), with Retry-After.
        api.MapGet("/", ListRunners).WithName("ListRunners");
        api.MapPost("/", AddRunner).Accepts<AddRunnerRequest>("application/json").WithName("AddRunner")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapPost("/{name}/drain", DrainRunner).WithName("DrainRunner")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapDelete("/{name}", RemoveRunner).WithName("RemoveRunner")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    public static async Task<Ok<RunnersList>> ListRunners(RunnersService runners, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runners);
        return TypedResults.Ok(await runners.ListAsync(cancellationToken));
    }

    public static async Task<Results<Created<RunnerView>, ProblemHttpResult>> AddRunner(
        HttpRequest request, RunnersService runners, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(runners);
        if (!request.HasJsonContentType())
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON, sent with Content-Type: application/json.");
        }

        AddRunnerRequest? body;
        try
        {
            body = await Hosting.JsonBody.ReadAsync<AddRunnerRequest>(request, MaxBodyBytes, cancellationToken);
        }
        catch (BodyTooLargeException)
        {
            return Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {MaxBodyBytes} bytes.");
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body is not a runner to add: {JsonErrors.Describe(e, typeof(AddRunnerRequest), LogQuotaJson.StrictOptions)}");
        }
        catch (BadHttpRequestException e)
        {
            return Problem(e.StatusCode, e.Message);
        }

        if (body?.Url is null)
        {
            return Problem(StatusCodes.Status400BadRequest, "The body must be a JSON object such as {\"url\": \"http://10.0.0.5:10999\", \"name\": \"gpu-a\"}.");
        }

        var outcome = await runners.AddAsync(body, cancellationToken);
        return outcome.Problem is { } problem
            ? Problem(problem)
            : TypedResults.Created($"/api/runners/{outcome.Runner!.Name}", outcome.Runner);
    }

    public static async Task<Results<Ok<RunnerView>, ProblemHttpResult>> DrainRunner(
        [FromRoute] string name, RunnersService runners, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runners);
        var outcome = await runners.DrainAsync(name, cancellationToken);
        return outcome.Problem is { } problem ? Problem(problem) : TypedResults.Ok(outcome.Runner!);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveRunner(
        [FromRoute] string name, RunnersService runners, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runners);
        var outcome = await runners.RemoveAsync(name, cancellationToken);
        return outcome.Problem is { } problem ? Problem(problem) : TypedResults.NoContent();
    }

    private static ProblemHttpResult Problem(RunProblem problem) => Problem(problem.Status, problem.Detail);

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
