using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>A project's secrets (SPEC §10): set and deleted by its admins and managers, listed by name by its members; no read answers a value.</summary>
public static class SecretsApi
{
    public static IEndpointRouteBuilder MapSecretsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/projects/{project}/secrets").WithTags("Projects");
        api.MapGet("/", ListSecrets).WithName("ListProjectSecrets").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/{name}", SetSecret).Accepts<SetSecretRequest>("application/json").WithName("SetProjectSecret")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapDelete("/{name}", DeleteSecret).WithName("DeleteProjectSecret")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>Sets the secret's value, stored encrypted; answers its name and update time, never the value.</summary>
    public static async Task<Results<Ok<SecretInfo>, ProblemHttpResult>> SetSecret(
        [FromRoute(Name = "project")] string project, [FromRoute(Name = "name")] string name, HttpRequest request, Caller caller,
        SecretsService secrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var (body, malformed) = await JsonBody.ReadAsync<SetSecretRequest>(request, "secret", "{\"value\": \"hf_...\"}", cancellationToken);
        if (body is null)
        {
            return malformed!;
        }

        var outcome = await secrets.SetAsync(caller, project, name, body.Value, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Ok(outcome.Value!);
    }

    public static async Task<Results<Ok<SecretsList>, ProblemHttpResult>> ListSecrets(
        [FromRoute(Name = "project")] string project, Caller caller, SecretsService secrets, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var outcome = await secrets.ListAsync(caller, project, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Ok(outcome.Value!);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteSecret(
        [FromRoute(Name = "project")] string project, [FromRoute(Name = "name")] string name, Caller caller, SecretsService secrets,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        var outcome = await secrets.DeleteAsync(caller, project, name, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.NoContent();
    }
}
