using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Shared.Api;

/// <summary>Query of <c>GET /api/runs/{run_name}/logs</c>.</summary>
public sealed class LogsQuery
{
    /// <summary>Only events after this time (exclusive).</summary>
    [AliasAs("start_time")]
    public string? StartTime { get; init; }

    /// <summary>Only events up to this time.</summary>
    [AliasAs("end_time")]
    public string? EndTime { get; init; }

    /// <summary>Page size, 1 to 1000.</summary>
    [AliasAs("limit")]
    public int? Limit { get; init; }

    /// <summary>Newest first.</summary>
    [AliasAs("descending")]
    public bool? Descending { get; init; }

    /// <summary>The <c>next_token</c> of the previous page.</summary>
    [AliasAs("next_token")]
    public string? NextToken { get; init; }

    /// <summary><c>job</c> (the job's output), <c>runner</c> (the <c>[logquota] </c> markers) or <c>all</c> (the default, null).</summary>
    [AliasAs("source")]
    public string? Source { get; init; }

    /// <summary>True: hold the answer until something after <see cref="StartTime"/> is stored, the run ends, or <see cref="Wait"/> is over (a long poll).</summary>
    [AliasAs("follow")]
    public bool? Follow { get; init; }

    /// <summary>Seconds a <see cref="Follow"/> answer may be held (0–60; the server's default 25).</summary>
    [AliasAs("wait")]
    public int? Wait { get; init; }
}

/// <summary>Query of <c>GET /api/runs</c>.</summary>
public sealed class RunsQuery
{
    /// <summary>Rows per page, 1 to 1000 (the server's default: 100).</summary>
    [AliasAs("limit")]
    public int? Limit { get; init; }

    /// <summary>Only runs whose job has not ended.</summary>
    [AliasAs("only_active")]
    public bool? OnlyActive { get; init; }

    /// <summary>The <c>next_token</c> of the previous page.</summary>
    [AliasAs("next_token")]
    public string? NextToken { get; init; }
}

/// <summary>The server's REST API (SPEC §4, §10), as the CLI calls it. Every call but the health check needs a token (a user's or the admin token).</summary>
public interface IServerApi
{
    /// <summary><c>GET /api/healthcheck</c>.</summary>
    [Get("/api/healthcheck")]
    Task<HealthcheckResponse> HealthcheckAsync(CancellationToken cancellationToken);

    /// <summary><c>HEAD /api/code/{sha256}</c>: 200 when the server holds that code archive, 404 when not.</summary>
    [Head("/api/code/{sha256}")]
    Task<IApiResponse> CodeExistsAsync(string sha256, CancellationToken cancellationToken);

    /// <summary><c>PUT /api/code/{sha256}</c>: upload a gzip'd tar of code (<c>application/gzip</c>), stored content-addressed.</summary>
    [Put("/api/code/{sha256}")]
    Task PutCodeAsync(string sha256, [Body] HttpContent archive, CancellationToken cancellationToken);

    /// <summary><c>POST /api/projects/{project}/runs</c>: submit a run (<c>/api/runs</c> is the <c>main</c> project's alias).</summary>
    [Post("/api/projects/{project}/runs")]
    Task<RunDetails> SubmitRunAsync(string project, [Body] SubmitRunRequest request, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}/runs</c>: one page of the project's <c>ps</c> list, newest first.</summary>
    [Get("/api/projects/{project}/runs")]
    Task<RunsPage> ListRunsAsync(string project, [Query] RunsQuery query, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}/runs/{run_name}</c>.</summary>
    [Get("/api/projects/{project}/runs/{runName}")]
    Task<RunDetails> GetRunAsync(string project, string runName, CancellationToken cancellationToken);

    /// <summary><c>POST /api/projects/{project}/runs/{run_name}/stop</c>.</summary>
    [Post("/api/projects/{project}/runs/{runName}/stop")]
    Task StopRunAsync(string project, string runName, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}/runs/{run_name}/logs</c>: one page of log events.</summary>
    [Get("/api/projects/{project}/runs/{runName}/logs")]
    Task<LogsResponse> GetLogsAsync(string project, string runName, [Query] LogsQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// <c>GET /api/projects/{project}/runs/{run_name}/logs?follow=true</c> as an event stream (<c>Accept: text/event-stream</c>):
    /// one response for the whole follow, a <c>page</c> frame per commit that brings something, <c>end</c> once the run has
    /// ended and every event after <see cref="LogsQuery.StartTime"/> was sent. Not buffered: read it as it comes.
    /// </summary>
    [Get("/api/projects/{project}/runs/{runName}/logs")]
    [Headers("Accept: text/event-stream")]
    Task<HttpResponseMessage> StreamLogsAsync(string project, string runName, [Query] LogsQuery query, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}/runs/{run_name}/logs?q=...</c>: the lines that match, numbered, a page at a time.</summary>
    [Get("/api/projects/{project}/runs/{runName}/logs")]
    Task<LogSearchResponse> SearchLogsAsync(string project, string runName, [Query] LogSearchRequest query, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}/runs/{run_name}/sections</c>: the folds of the run's log, with their lines and durations.</summary>
    [Get("/api/projects/{project}/runs/{runName}/sections")]
    Task<LogSectionsResponse> GetSectionsAsync(string project, string runName, CancellationToken cancellationToken);

    /// <summary>
    /// <c>GET /api/projects/{project}/runs/{run_name}/logs?format=text</c> (or <c>ansi</c>, the colours rebuilt): the
    /// stored bytes in order, streamed; <paramref name="timestamps"/>: each line after the time it was stored.
    /// </summary>
    [Get("/api/projects/{project}/runs/{runName}/logs")]
    Task<HttpResponseMessage> GetLogsTextAsync(
        string project, string runName, [AliasAs("source")] string? source, [AliasAs("format")] string format = "text",
        [AliasAs("timestamps")] bool? timestamps = null, CancellationToken cancellationToken = default);

    /// <summary><c>DELETE /api/projects/{project}/runs/{run_name}</c>: delete a finished run and its logs.</summary>
    [Delete("/api/projects/{project}/runs/{runName}")]
    Task DeleteRunAsync(string project, string runName, CancellationToken cancellationToken);

    /// <summary><c>POST /api/users</c> (global admins): create a user; the answer holds their token, shown this once.</summary>
    [Post("/api/users")]
    Task<UserWithToken> CreateUserAsync([Body] CreateUserRequest request, CancellationToken cancellationToken);

    /// <summary><c>GET /api/users</c> (global admins): every user.</summary>
    [Get("/api/users")]
    Task<UsersList> ListUsersAsync(CancellationToken cancellationToken);

    /// <summary><c>POST /api/users/{user}/token</c> (global admins, or the user): a new token; the old one stops working.</summary>
    [Post("/api/users/{user}/token")]
    Task<UserWithToken> RotateUserTokenAsync(string user, CancellationToken cancellationToken);

    /// <summary><c>DELETE /api/users/{user}</c> (global admins): delete a user and their memberships.</summary>
    [Delete("/api/users/{user}")]
    Task DeleteUserAsync(string user, CancellationToken cancellationToken);

    /// <summary><c>POST /api/projects</c>: create a project; a user who does is its admin.</summary>
    [Post("/api/projects")]
    Task<ProjectInfo> CreateProjectAsync([Body] CreateProjectRequest request, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects</c>: the projects the caller reaches, with their role in each.</summary>
    [Get("/api/projects")]
    Task<ProjectsList> ListProjectsAsync(CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}</c>: a project and its members.</summary>
    [Get("/api/projects/{project}")]
    Task<ProjectInfo> GetProjectAsync(string project, CancellationToken cancellationToken);

    /// <summary><c>PATCH /api/projects/{project}</c> (the project's admins and managers): set or remove its hourly log budget.</summary>
    [Patch("/api/projects/{project}")]
    Task<ProjectInfo> UpdateProjectAsync(string project, [Body] UpdateProjectRequest request, CancellationToken cancellationToken);

    /// <summary><c>PUT /api/projects/{project}/members/{user}</c> (the project's admins and managers): add a member or change their role.</summary>
    [Put("/api/projects/{project}/members/{user}")]
    Task<ProjectInfo> SetProjectMemberAsync(string project, string user, [Body] SetMemberRequest request, CancellationToken cancellationToken);

    /// <summary><c>DELETE /api/projects/{project}/members/{user}</c> (the project's admins and managers): remove a member.</summary>
    [Delete("/api/projects/{project}/members/{user}")]
    Task RemoveProjectMemberAsync(string project, string user, CancellationToken cancellationToken);

    /// <summary><c>PUT /api/projects/{project}/secrets/{name}</c> (the project's admins and managers): set a secret's value, stored encrypted.</summary>
    [Put("/api/projects/{project}/secrets/{name}")]
    Task<SecretInfo> SetProjectSecretAsync(string project, string name, [Body] SetSecretRequest request, CancellationToken cancellationToken);

    /// <summary><c>GET /api/projects/{project}/secrets</c> (members): the project's secrets by name and update time, never their values.</summary>
    [Get("/api/projects/{project}/secrets")]
    Task<SecretsList> ListProjectSecretsAsync(string project, CancellationToken cancellationToken);

    /// <summary><c>DELETE /api/projects/{project}/secrets/{name}</c> (the project's admins and managers): delete a secret.</summary>
    [Delete("/api/projects/{project}/secrets/{name}")]
    Task DeleteProjectSecretAsync(string project, string name, CancellationToken cancellationToken);

    /// <summary><c>GET /api/runners</c>: every runner, its state, jobs and capacity.</summary>
    [Get("/api/runners")]
    Task<RunnersList> ListRunnersAsync(CancellationToken cancellationToken);

    /// <summary><c>POST /api/runners</c>: add a runner once it answers with the shared runner token.</summary>
    [Post("/api/runners")]
    Task<RunnerView> AddRunnerAsync([Body] AddRunnerRequest request, CancellationToken cancellationToken);

    /// <summary><c>POST /api/runners/{name}/drain</c>: no new job goes to the runner.</summary>
    [Post("/api/runners/{name}/drain")]
    Task<RunnerView> DrainRunnerAsync(string name, CancellationToken cancellationToken);

    /// <summary><c>DELETE /api/runners/{name}</c>: remove a runner that holds no job.</summary>
    [Delete("/api/runners/{name}")]
    Task RemoveRunnerAsync(string name, CancellationToken cancellationToken);
}
