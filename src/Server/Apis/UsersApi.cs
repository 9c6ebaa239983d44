using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>The users resource (SPEC §10): created, listed and deleted by a global admin; a token rotated by them or its user.</summary>
public static class UsersApi
{
    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/users").WithTags("Users");
        api.MapPost("/", CreateUser).Accepts<CreateUserRequest>("application/json").WithName("CreateUser")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/", ListUsers).WithName("ListUsers").ProducesProblem(StatusCodes.Status403Forbidden);
        api.MapPost("/{user}/token", RotateToken).WithName("RotateUserToken")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        api.MapDelete("/{user}", DeleteUser).WithName("DeleteUser")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>201 with the user and their token, which is never shown again.</summary>
    public static async Task<Results<Created<UserWithToken>, ProblemHttpResult>> CreateUser(
        HttpRequest request, Caller caller, UsersService users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        var (body, malformed) = await JsonBody.ReadAsync<CreateUserRequest>(request, "user", "{\"name\": \"alice\", \"global_role\": \"user\"}", cancellationToken);
        if (body is null)
        {
            return malformed!;
        }

        var outcome = await users.CreateAsync(caller, body, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Created($"/api/users/{body.Name}", outcome.Value!);
    }

    public static async Task<Results<Ok<UsersList>, ProblemHttpResult>> ListUsers(Caller caller, UsersService users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        var outcome = await users.ListAsync(caller, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Ok(outcome.Value!);
    }

    /// <summary>A new token for the user, shown once; the old one stops working at once.</summary>
    public static async Task<Results<Ok<UserWithToken>, ProblemHttpResult>> RotateToken(
        [FromRoute(Name = "user")] string user, Caller caller, UsersService users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        var outcome = await users.RotateTokenAsync(caller, user, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Ok(outcome.Value!);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteUser(
        [FromRoute(Name = "user")] string user, Caller caller, UsersService users, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(users);
        var outcome = await users.DeleteAsync(caller, user, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.NoContent();
    }
}
