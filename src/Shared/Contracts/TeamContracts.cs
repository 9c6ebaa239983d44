namespace LogQuota.Shared.Contracts;

/// <summary>A user's role on the whole server (dstack's global roles).</summary>
public enum GlobalRole
{
    /// <summary>Manages users, and reaches every project as its admin.</summary>
    Admin,

    /// <summary>Reaches the projects they are a member of, in the role they have there.</summary>
    User,
}

/// <summary>A member's role in one project (dstack's project roles).</summary>
public enum ProjectRole
{
    /// <summary>Everything in the project, members of any role included.</summary>
    Admin,

    /// <summary>Runs jobs, and adds, changes and removes members who are not admins (never to admin).</summary>
    Manager,

    /// <summary>Runs jobs: submits, lists, shows, stops and deletes the project's runs and reads their logs.</summary>
    User,
}

/// <summary>Body of <c>POST /api/users</c>.</summary>
/// <param name="Name">Matches <c>^[a-z][a-z0-9-]{0,40}$</c>, unique; <c>admin</c> is the bootstrap admin's and taken.</param>
/// <param name="GlobalRole"><c>admin</c> or <c>user</c>.</param>
public sealed record CreateUserRequest(string Name, GlobalRole GlobalRole);

/// <summary>A user as <c>GET /api/users</c> shows them; never their token.</summary>
/// <param name="Name">The user's name.</param>
/// <param name="GlobalRole">Their role on the server.</param>
/// <param name="CreatedAt">When they were created (UTC).</param>
public record UserInfo(string Name, GlobalRole GlobalRole, DateTimeOffset CreatedAt);

/// <summary>Answer of <c>POST /api/users</c> and <c>POST /api/users/{user}/token</c>: the only time the token is shown.</summary>
/// <param name="Name">The user's name.</param>
/// <param name="GlobalRole">Their role on the server.</param>
/// <param name="CreatedAt">When they were created (UTC).</param>
/// <param name="Token">The bearer token; the server keeps only its hash and cannot show it again.</param>
public sealed record UserWithToken(string Name, GlobalRole GlobalRole, DateTimeOffset CreatedAt, string Token)
    : UserInfo(Name, GlobalRole, CreatedAt);

/// <summary>Answer of <c>GET /api/users</c>.</summary>
/// <param name="Users">Every user, by name.</param>
public sealed record UsersList(IReadOnlyList<UserInfo> Users);

/// <summary>Body of <c>POST /api/projects</c>.</summary>
/// <param name="Name">Matches <c>^[a-z][a-z0-9-]{0,40}$</c>, unique.</param>
/// <param name="LogBudgetHour">Stored log bytes per hour summed over the project's jobs; null or 0: no budget.</param>
/// <param name="LogBudgetAction">What happens when the budget is crossed (default <c>kill</c>).</param>
public sealed record CreateProjectRequest(string Name, long? LogBudgetHour = null, LogQuotaAction? LogBudgetAction = null);

/// <summary>Body of <c>PUT /api/projects/{project}/members/{user}</c>.</summary>
/// <param name="Role"><c>admin</c>, <c>manager</c> or <c>user</c>.</param>
public sealed record SetMemberRequest(ProjectRole Role);

/// <summary>A member of a project.</summary>
/// <param name="User">The user's name.</param>
/// <param name="Role">Their role in the project.</param>
public sealed record ProjectMember(string User, ProjectRole Role);

/// <summary>A project as its members see it.</summary>
/// <param name="Name">The project's name.</param>
/// <param name="CreatedAt">When it was created (UTC).</param>
/// <param name="Role">The caller's role in it (a global admin is <c>admin</c> everywhere).</param>
/// <param name="Members">Its members, by name; a global admin who is not a member is not listed.</param>
/// <param name="LogBudget">Its hourly log budget and this hour's usage; null when it has none.</param>
/// <param name="Events">Its latest events (budget warnings and crossings), newest first, at most 50.</param>
public sealed record ProjectInfo(
    string Name, DateTimeOffset CreatedAt, ProjectRole Role, IReadOnlyList<ProjectMember> Members,
    ProjectBudgetStatus? LogBudget = null, IReadOnlyList<ProjectEvent>? Events = null);

/// <summary>One row of <c>GET /api/projects</c>.</summary>
/// <param name="Name">The project's name.</param>
/// <param name="Role">The caller's role in it.</param>
public sealed record ProjectRow(string Name, ProjectRole Role);

/// <summary>Answer of <c>GET /api/projects</c>: the projects the caller reaches (every project for a global admin).</summary>
/// <param name="Projects">By name.</param>
public sealed record ProjectsList(IReadOnlyList<ProjectRow> Projects);
