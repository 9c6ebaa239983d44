using LogQuota.Server.Budgets;
using LogQuota.Server.Data;
using LogQuota.Server.Runs;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Teams;

/// <summary>Projects and their members. Who may do what is <see cref="TeamAccess"/>'s to say.</summary>
public sealed class ProjectsService(ServerDbContext db, TeamAccess access, TimeProvider time, ILogger<ProjectsService> logger)
{
    /// <summary>Any caller may create a project; a user who does becomes its admin (as in dstack).</summary>
    public async Task<TeamOutcome<ProjectInfo>> CreateAsync(Caller caller, CreateProjectRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        ArgumentNullException.ThrowIfNull(request);
        if (TeamNames.Check("name", request.Name, "A project's name") is { } invalid)
        {
            return TeamOutcome.Refused<ProjectInfo>(invalid);
        }

        if (BudgetReads.Check(request.LogBudgetHour) is { } badBudget)
        {
            return TeamOutcome.Refused<ProjectInfo>(badBudget);
        }

        if (await db.Projects.AnyAsync(p => p.Name == request.Name, cancellationToken))
        {
            return TeamOutcome.Refused<ProjectInfo>(NameTaken(request.Name));
        }

        var now = time.GetUtcNow();
        var project = new ProjectEntity
        {
            Id = Guid.CreateVersion7(now), Name = request.Name, CreatedAt = now,
            LogBudgetHour = request.LogBudgetHour is > 0 ? request.LogBudgetHour : null, LogBudgetAction = request.LogBudgetAction ?? LogQuotaAction.Kill,
        };
        if (caller.UserId is { } userId)
        {
            project.Members.Add(new ProjectMemberEntity { ProjectId = project.Id, UserId = userId, Role = ProjectRole.Admin });
        }

        db.Projects.Add(project);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await db.Projects.AnyAsync(p => p.Name == request.Name, cancellationToken))
            {
                return TeamOutcome.Refused<ProjectInfo>(NameTaken(request.Name));
            }

            throw;
        }

        logger.LogInformation("Project {Project} created by {Caller}", project.Name, caller.Name);
        return await GetAsync(caller, project.Name, cancellationToken);
    }

    /// <summary>The projects <paramref name="caller"/> reaches, by name: every one for a global admin.</summary>
    public async Task<ProjectsList> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.IsGlobalAdmin)
        {
            var all = await db.Projects.AsNoTracking().OrderBy(p => p.Name).Select(p => p.Name).ToListAsync(cancellationToken);
            return new ProjectsList([.. all.Select(name => new ProjectRow(name, ProjectRole.Admin))]);
        }

        var mine = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.UserId == caller.UserId)
            .Join(db.Projects, m => m.ProjectId, p => p.Id, (m, p) => new { p.Name, m.Role })
            .ToListAsync(cancellationToken);
        return new ProjectsList([.. mine.OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => new ProjectRow(p.Name, p.Role))]);
    }

    /// <summary>Sets or removes the project's hourly log budget (its admins and managers; global admins).</summary>
    public async Task<TeamOutcome<ProjectInfo>> UpdateAsync(Caller caller, string project, UpdateProjectRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (reached, problem) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return TeamOutcome.Refused<ProjectInfo>(problem!);
        }

        if (TeamAccess.MayManageBudget(reached) is { } refused)
        {
            return TeamOutcome.Refused<ProjectInfo>(refused);
        }

        if (BudgetReads.Check(request.LogBudgetHour) is { } badBudget)
        {
            return TeamOutcome.Refused<ProjectInfo>(badBudget);
        }

        var entity = await db.Projects.FirstAsync(p => p.Id == reached.ProjectId, cancellationToken);
        if (request.LogBudgetHour is { } bytes)
        {
            entity.LogBudgetHour = bytes > 0 ? bytes : null;
        }

        entity.LogBudgetAction = request.LogBudgetAction ?? entity.LogBudgetAction;
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("Project {Project}'s log budget is {Budget} bytes an hour ({Action}), set by {Caller}",
            reached.Project, entity.LogBudgetHour ?? 0, WireNames.Of(entity.LogBudgetAction), caller.Name);
        return TeamOutcome.Done<ProjectInfo>(await InfoAsync(reached, cancellationToken));
    }

    public async Task<TeamOutcome<ProjectInfo>> GetAsync(Caller caller, string project, CancellationToken cancellationToken)
    {
        var (reached, problem) = await access.ProjectAsync(caller, project, cancellationToken);
        return reached is null ? TeamOutcome.Refused<ProjectInfo>(problem!) : TeamOutcome.Done<ProjectInfo>(await InfoAsync(reached, cancellationToken));
    }

    /// <summary>Adds <paramref name="user"/> to the project in <paramref name="role"/>, or changes their role.</summary>
    public async Task<TeamOutcome<ProjectInfo>> SetMemberAsync(Caller caller, string project, string user, ProjectRole role, CancellationToken cancellationToken)
    {
        var (reached, problem) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return TeamOutcome.Refused<ProjectInfo>(problem!);
        }

        var target = await db.Users.AsNoTracking().Where(u => u.Name == user).Select(u => (Guid?)u.Id).FirstOrDefaultAsync(cancellationToken);
        var member = target is { } id
            ? await db.ProjectMembers.FirstOrDefaultAsync(m => m.ProjectId == reached.ProjectId && m.UserId == id, cancellationToken)
            : null;
        if (TeamAccess.MayChangeMember(reached, member?.Role, role) is { } refused)
        {
            return TeamOutcome.Refused<ProjectInfo>(refused);
        }

        if (target is null)
        {
            return TeamOutcome.Refused<ProjectInfo>(UsersService.NoUser(user));
        }

        if (member is null)
        {
            db.ProjectMembers.Add(new ProjectMemberEntity { ProjectId = reached.ProjectId, UserId = target.Value, Role = role });
        }
        else
        {
            member.Role = role;
        }

        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("User {User} is a {Role} of project {Project}, set by {Caller}", user, WireNames.Of(role), reached.Project, caller.Name);
        return TeamOutcome.Done<ProjectInfo>(await InfoAsync(reached, cancellationToken));
    }

    public async Task<TeamOutcome<ProjectInfo>> RemoveMemberAsync(Caller caller, string project, string user, CancellationToken cancellationToken)
    {
        var (reached, problem) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return TeamOutcome.Refused<ProjectInfo>(problem!);
        }

        var member = await db.ProjectMembers
            .FirstOrDefaultAsync(m => m.ProjectId == reached.ProjectId && m.User.Name == user, cancellationToken);
        if (TeamAccess.MayChangeMember(reached, member?.Role, null) is { } refused)
        {
            return TeamOutcome.Refused<ProjectInfo>(refused);
        }

        if (member is null)
        {
            return TeamOutcome.Refused<ProjectInfo>(new RunProblem(StatusCodes.Status404NotFound, $"'{user}' is not a member of '{reached.Project}'."));
        }

        db.ProjectMembers.Remove(member);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("User {User} removed from project {Project} by {Caller}", user, reached.Project, caller.Name);
        return TeamOutcome.Done<ProjectInfo>(null);
    }

    private async Task<ProjectInfo> InfoAsync(ProjectAccess reached, CancellationToken cancellationToken)
    {
        var createdAt = await db.Projects.AsNoTracking().Where(p => p.Id == reached.ProjectId).Select(p => p.CreatedAt).FirstAsync(cancellationToken);
        var members = await db.ProjectMembers.AsNoTracking()
            .Where(m => m.ProjectId == reached.ProjectId)
            .Select(m => new { m.User.Name, m.Role })
            .ToListAsync(cancellationToken);
        return new ProjectInfo(
            reached.Project, createdAt, reached.Role, [.. members.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m => new ProjectMember(m.Name, m.Role))],
            await BudgetReads.StatusAsync(db, reached.ProjectId, time.GetUtcNow(), cancellationToken),
            await BudgetReads.EventsAsync(db, reached.ProjectId, cancellationToken));
    }

    private static RunProblem NameTaken(string name) =>
        new(StatusCodes.Status409Conflict, $"A project named '{name}' already exists; choose another name.");
}
