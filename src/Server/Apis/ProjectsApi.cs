using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>The projects resource (SPEC §10): projects and their members; a project's runs are in <see cref="RunsApi"/>.</summary>
public static class ProjectsApi
{
    public static IEndpointRouteBuilder MapProjectsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/projects").WithTags("Projects");
        api.MapPost("/", CreateProject).Accepts<CreateProjectRequest>("application/json").WithName("CreateProject")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapGet("/", ListProjects).WithName("ListProjects");
        api.MapGet("/{project}", GetProject).WithName("GetProject").ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPatch("/{project}", UpdateProject).Accepts<UpdateProjectRequest>("application/json").WithName("UpdateProject")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapPut("/{project}/members/{user}", SetMember).Accepts<SetMemberRequest>("application/json").WithName("SetProjectMember")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        api.MapDelete("/{project}/members/{user}", RemoveMember).WithName("RemoveProjectMember")
            .ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    /// <summary>201 with the project; a user who creates one is its admin.</summary>
    public static async Task<Results<Created<ProjectInfo>, ProblemHttpResult>> CreateProject(
        HttpRequest request, Caller caller, ProjectsService projects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var (body, malformed) = await JsonBody.ReadAsync<CreateProjectRequest>(request, "project", "{\"name\": \"research\"}", cancellationToken);
        if (body is null)
        {
            return malformed!;
        }

        var outcome = await projects.CreateAsync(caller, body, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Created($"/api/projects/{body.Name}", outcome.Value!);
    }

    public static async Task<Ok<ProjectsList>> ListProjects(Caller caller, ProjectsService projects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        return TypedResults.Ok(await projects.ListAsync(caller, cancellationToken));
    }

    public static async Task<Results<Ok<ProjectInfo>, ProblemHttpResult>> GetProject(
        [FromRoute(Name = "project")] string project, Caller caller, ProjectsService projects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        return Answer(await projects.GetAsync(caller, project, cancellationToken));
    }

    /// <summary>Sets or removes the project's hourly log budget; answers the project with its budget.</summary>
    public static async Task<Results<Ok<ProjectInfo>, ProblemHttpResult>> UpdateProject(
        [FromRoute(Name = "project")] string project, HttpRequest request, Caller caller, ProjectsService projects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var (body, malformed) = await JsonBody.ReadAsync<UpdateProjectRequest>(
            request, "project", "{\"log_budget_hour\": 1048576, \"log_budget_action\": \"truncate\"}", cancellationToken);
        if (body is null)
        {
            return malformed!;
        }

        return Answer(await projects.UpdateAsync(caller, project, body, cancellationToken));
    }

    /// <summary>Adds the user to the project in the role, or changes their role; answers the project with its members.</summary>
    public static async Task<Results<Ok<ProjectInfo>, ProblemHttpResult>> SetMember(
        [FromRoute(Name = "project")] string project, [FromRoute(Name = "user")] string user, HttpRequest request, Caller caller,
        ProjectsService projects, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var (body, malformed) = await JsonBody.ReadAsync<SetMemberRequest>(request, "membership", "{\"role\": \"user\"}", cancellationToken);
        if (body is null)
        {
            return malformed!;
        }

        return Answer(await projects.SetMemberAsync(caller, project, user, body.Role, cancellationToken));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveMember(
        [FromRoute(Name = "project")] string project, [FromRoute(Name = "user")] string user, Caller caller, ProjectsService projects,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(projects);
        var outcome = await projects.RemoveMemberAsync(caller, project, user, cancellationToken);
        return outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.NoContent();
    }

    private static Results<Ok<ProjectInfo>, ProblemHttpResult> Answer(TeamOutcome<ProjectInfo> outcome) =>
        outcome.Problem is { } problem ? ApiProblems.From(problem) : TypedResults.Ok(outcome.Value!);
}
