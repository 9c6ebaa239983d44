using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Server.Runs;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Teams;

/// <summary>Users (created by a global admin, each with a token shown once), their tokens and their deletion.</summary>
public sealed class UsersService(ServerDbContext db, TimeProvider time, ILogger<UsersService> logger)
{
    public async Task<TeamOutcome<UserWithToken>> CreateAsync(Caller caller, CreateUserRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (TeamAccess.MayManageUsers(caller) is { } refused)
        {
            return TeamOutcome.Refused<UserWithToken>(refused);
        }

        if (TeamNames.Check("name", request.Name, "A user's name") is { } invalid)
        {
            return TeamOutcome.Refused<UserWithToken>(invalid);
        }

        if (request.Name == Caller.BootstrapAdminName || await db.Users.AnyAsync(u => u.Name == request.Name, cancellationToken))
        {
            return TeamOutcome.Refused<UserWithToken>(NameTaken(request.Name));
        }

        var token = UserTokens.Create();
        var user = new UserEntity
        {
            Id = Guid.CreateVersion7(time.GetUtcNow()), Name = request.Name, GlobalRole = request.GlobalRole,
            TokenHash = UserTokens.Hash(token), CreatedAt = time.GetUtcNow(),
        };
        db.Users.Add(user);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Lost a race with another create of the same name: the unique index decided.
            if (await ExistsAsync(request.Name, cancellationToken))
            {
                return TeamOutcome.Refused<UserWithToken>(NameTaken(request.Name));
            }

            throw;
        }

        logger.LogInformation("User {User} created with the global role {GlobalRole} by {Caller}", user.Name, WireNames.Of(user.GlobalRole), caller.Name);
        return TeamOutcome.Done<UserWithToken>(new UserWithToken(user.Name, user.GlobalRole, user.CreatedAt, token));
    }

    public async Task<TeamOutcome<UsersList>> ListAsync(Caller caller, CancellationToken cancellationToken)
    {
        if (TeamAccess.MayManageUsers(caller) is { } refused)
        {
            return TeamOutcome.Refused<UsersList>(refused);
        }

        var users = await db.Users.AsNoTracking().OrderBy(u => u.Name).ToListAsync(cancellationToken);
        return TeamOutcome.Done<UsersList>(new UsersList([.. users.Select(u => new UserInfo(u.Name, u.GlobalRole, u.CreatedAt))]));
    }

    /// <summary>A new token for <paramref name="name"/>; the old one stops working at once.</summary>
    public async Task<TeamOutcome<UserWithToken>> RotateTokenAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        if (TeamAccess.MayRotateToken(caller, name) is { } refused)
        {
            return TeamOutcome.Refused<UserWithToken>(refused);
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.Name == name, cancellationToken);
        if (user is null)
        {
            return TeamOutcome.Refused<UserWithToken>(NoUser(name));
        }

        var token = UserTokens.Create();
        user.TokenHash = UserTokens.Hash(token);
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("The token of user {User} was rotated by {Caller}", user.Name, caller.Name);
        return TeamOutcome.Done<UserWithToken>(new UserWithToken(user.Name, user.GlobalRole, user.CreatedAt, token));
    }

    /// <summary>Deletes the user and their memberships; their token stops working at once. Their runs stay in their projects.</summary>
    public async Task<TeamOutcome<UserInfo>> DeleteAsync(Caller caller, string name, CancellationToken cancellationToken)
    {
        if (TeamAccess.MayManageUsers(caller) is { } refused)
        {
            return TeamOutcome.Refused<UserInfo>(refused);
        }

        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Name == name, cancellationToken);
        if (user is null)
        {
            return TeamOutcome.Refused<UserInfo>(NoUser(name));
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.ProjectMembers.Where(m => m.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        await db.Users.Where(u => u.Id == user.Id).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("User {User} deleted by {Caller}", user.Name, caller.Name);
        return TeamOutcome.Done<UserInfo>(null);
    }

    private Task<bool> ExistsAsync(string name, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return db.Users.AnyAsync(u => u.Name == name, cancellationToken);
    }

    private static RunProblem NameTaken(string name) =>
        new(StatusCodes.Status409Conflict, $"A user named '{name}' already exists{(name == Caller.BootstrapAdminName ? " (the admin token's holder)" : "")}; choose another name.");

    internal static RunProblem NoUser(string name) => new(StatusCodes.Status404NotFound, $"There is no user named '{name}'.");
}
