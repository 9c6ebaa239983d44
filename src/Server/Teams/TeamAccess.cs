using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Server.Runs;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Teams;

/// <summary>A caller's way into one project: the project, and the role they act in there.</summary>
/// <param name="ProjectId">The project's id.</param>
/// <param name="Project">The project's name.</param>
/// <param name="Role">The caller's role in it; a global admin acts as its <c>admin</c>.</param>
public sealed record ProjectAccess(Guid ProjectId, string Project, ProjectRole Role);

/// <summary>
/// Every authorization rule of users, projects and roles, in one place: the runs service, the list and logs
/// endpoints, the users and projects services and the web page all ask here, and none decides for itself.
/// <list type="bullet">
/// <item>A global admin reaches every project as its admin, and alone manages users.</item>
/// <item>A member reaches their project's runs in any role; anyone else is told the project does not exist (404, never
/// 403, so names do not leak), whether it exists or not.</item>
/// <item>A project's admins manage its members; its managers manage members who are not admins, never to admin.</item>
/// <item>A project's admins and managers set and delete its secrets; every member lists their names.</item>
/// </list>
/// </summary>
public sealed class TeamAccess(ServerDbContext db)
{
    /// <summary>The project <paramref name="project"/> (<c>main</c> when null) as <paramref name="caller"/> reaches it, or a 404.</summary>
    public async Task<(ProjectAccess? Access, RunProblem? Problem)> ProjectAsync(Caller caller, string? project, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var name = project ?? ProjectEntity.MainName;
        var found = RunNames.IsValid(name)
            ? await db.Projects.AsNoTracking().Where(p => p.Name == name).Select(p => new { p.Id, p.Name }).FirstOrDefaultAsync(cancellationToken)
            : null;
        if (found is null)
        {
            return (null, NoProject(name));
        }

        if (caller.IsGlobalAdmin)
        {
            return (new ProjectAccess(found.Id, found.Name, ProjectRole.Admin), null);
        }

        var role = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.ProjectId == found.Id && m.UserId == caller.UserId)
            .Select(m => (ProjectRole?)m.Role)
            .FirstOrDefaultAsync(cancellationToken);
        return role is { } r ? (new ProjectAccess(found.Id, found.Name, r), null) : (null, NoProject(name));
    }

    /// <summary>
    /// Whether <paramref name="access"/> may make a member whose role is <paramref name="current"/> (null: not a member)
    /// one of role <paramref name="wanted"/> (null: no longer a member); null when it may, else the 403.
    /// </summary>
    public static RunProblem? MayChangeMember(ProjectAccess access, ProjectRole? current, ProjectRole? wanted)
    {
        ArgumentNullException.ThrowIfNull(access);
        return access.Role switch
        {
            ProjectRole.Admin => null,
            ProjectRole.Manager when current != ProjectRole.Admin && wanted != ProjectRole.Admin => null,
            ProjectRole.Manager => Forbidden($"A manager of '{access.Project}' cannot add, change or remove its admins; ask one of its admins."),
            _ => Forbidden($"Only the admins and managers of '{access.Project}' manage its members; you are a {WireNames.Of(access.Role)}."),
        };
    }

    /// <summary>Null when <paramref name="access"/> may set and delete the project's secrets (its admins and managers), else the 403. Every member may list their names.</summary>
    public static RunProblem? MayManageSecrets(ProjectAccess access) => ManagersOnly(access, "set and delete its secrets");

    /// <summary>Null when <paramref name="access"/> may set the project's log budget: its admins and managers (global admins act as admins).</summary>
    public static RunProblem? MayManageBudget(ProjectAccess access) => ManagersOnly(access, "set its log budget");

    private static RunProblem? ManagersOnly(ProjectAccess access, string what)
    {
        ArgumentNullException.ThrowIfNull(access);
        return access.Role is ProjectRole.Admin or ProjectRole.Manager
            ? null
            : Forbidden($"Only the admins and managers of '{access.Project}' {what}; you are a {WireNames.Of(access.Role)}.");
    }

    /// <summary>Null when <paramref name="caller"/> may create, list and delete users, else the 403.</summary>
    public static RunProblem? MayManageUsers(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsGlobalAdmin ? null : Forbidden("Only a global admin manages users.");
    }

    /// <summary>Null when <paramref name="caller"/> may list, add, drain and remove runners (global admins: runners are the installation's, not a project's), else the 403.</summary>
    public static RunProblem? MayManageRunners(Caller? caller) =>
        caller?.IsGlobalAdmin == true ? null : Forbidden("Only a global admin manages runners.");

    /// <summary>Null when <paramref name="caller"/> may rotate the token of <paramref name="user"/>: a global admin, or the user themself.</summary>
    public static RunProblem? MayRotateToken(Caller caller, string user)
    {
        ArgumentNullException.ThrowIfNull(caller);
        return caller.IsGlobalAdmin || caller.Name == user ? null : Forbidden("Only a global admin, or the user themself, rotates a user's token.");
    }

    /// <summary>The same words whether the project does not exist or the caller is not in it.</summary>
    private static RunProblem NoProject(string name) =>
        new(StatusCodes.Status404NotFound, $"You are a member of no project named '{name}'.");

    private static RunProblem Forbidden(string detail) => new(StatusCodes.Status403Forbidden, detail);
}
