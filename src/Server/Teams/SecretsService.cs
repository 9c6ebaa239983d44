using System.Security.Cryptography;
using LogQuota.Server.Data;
using LogQuota.Server.Runs;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Teams;

/// <summary>
/// A project's secrets (SPEC §10): set, listed by name, deleted, and decrypted only to hand a job its values. No read
/// of the API answers a value, and nothing here logs one. Who may do what is <see cref="TeamAccess"/>'s to say.
/// </summary>
public sealed class SecretsService(ServerDbContext db, TeamAccess access, SecretProtection protection, TimeProvider time, ILogger<SecretsService> logger)
{
    /// <summary>Sets the secret's value (encrypted), making the secret when it is new.</summary>
    public async Task<TeamOutcome<SecretInfo>> SetAsync(Caller caller, string project, string name, string? value, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var (reached, problem) = await ManagedAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return TeamOutcome.Refused<SecretInfo>(problem!);
        }

        if (SecretRules.CheckName(name) is { } badName)
        {
            return TeamOutcome.Refused<SecretInfo>(Invalid("name", badName));
        }

        if (SecretRules.CheckValue(value) is { } badValue)
        {
            return TeamOutcome.Refused<SecretInfo>(Invalid("value", badValue));
        }

        var now = time.GetUtcNow();
        var encrypted = protection.Protect(reached.ProjectId, name, value!);
        var secret = await db.ProjectSecrets.FirstOrDefaultAsync(s => s.ProjectId == reached.ProjectId && s.Name == name, cancellationToken);
        if (secret is null)
        {
            secret = new ProjectSecretEntity { ProjectId = reached.ProjectId, Name = name, ProtectedValue = encrypted, UpdatedBy = caller.Name };
            db.ProjectSecrets.Add(secret);
        }

        secret.ProtectedValue = encrypted;
        secret.UpdatedAt = now;
        secret.UpdatedBy = caller.Name;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Two managers made the same new secret at once: the other one's value stands, and this one is set over it.
            db.ChangeTracker.Clear();
            await db.ProjectSecrets.Where(s => s.ProjectId == reached.ProjectId && s.Name == name).ExecuteUpdateAsync(
                u => u.SetProperty(s => s.ProtectedValue, encrypted).SetProperty(s => s.UpdatedAt, now).SetProperty(s => s.UpdatedBy, caller.Name),
                cancellationToken);
        }

        logger.LogInformation("Secret {Secret} of project {Project} set by {Caller}", name, reached.Project, caller.Name);
        return TeamOutcome.Done(new SecretInfo(name, now, caller.Name));
    }

    /// <summary>The project's secrets by name, for any member: names and update times, never values.</summary>
    public async Task<TeamOutcome<SecretsList>> ListAsync(Caller caller, string project, CancellationToken cancellationToken)
    {
        var (reached, problem) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return TeamOutcome.Refused<SecretsList>(problem!);
        }

        var secrets = await db.ProjectSecrets.AsNoTracking()
            .Where(s => s.ProjectId == reached.ProjectId)
            .Select(s => new SecretInfo(s.Name, s.UpdatedAt, s.UpdatedBy))
            .ToListAsync(cancellationToken);
        return TeamOutcome.Done(new SecretsList([.. secrets.OrderBy(s => s.Name, StringComparer.Ordinal)]));
    }

    public async Task<TeamOutcome<SecretInfo>> DeleteAsync(Caller caller, string project, string name, CancellationToken cancellationToken)
    {
        var (reached, problem) = await ManagedAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return TeamOutcome.Refused<SecretInfo>(problem!);
        }

        var deleted = await db.ProjectSecrets.Where(s => s.ProjectId == reached.ProjectId && s.Name == name).ExecuteDeleteAsync(cancellationToken);
        if (deleted == 0)
        {
            return TeamOutcome.Refused<SecretInfo>(NoSecret(reached.Project, name));
        }

        logger.LogInformation("Secret {Secret} of project {Project} deleted by {Caller}", name, reached.Project, caller.Name);
        return TeamOutcome.Done<SecretInfo>(null);
    }

    /// <summary>The first of <paramref name="names"/> the project has no secret of, or null when it has them all.</summary>
    public static async Task<string?> FirstMissingAsync(ServerDbContext db, Guid projectId, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var asked = names.ToArray();
        var held = await db.ProjectSecrets.AsNoTracking()
            .Where(s => s.ProjectId == projectId && asked.Contains(s.Name))
            .Select(s => s.Name)
            .ToListAsync(cancellationToken);
        return names.FirstOrDefault(name => !held.Contains(name, StringComparer.Ordinal));
    }

    /// <summary>
    /// The values of <paramref name="names"/>, decrypted for a job's hand-off; or why they cannot be: a secret deleted
    /// since the run was submitted, or one whose key is gone.
    /// </summary>
    public static async Task<(Dictionary<string, string>? Values, string? Problem)> DecryptAsync(
        ServerDbContext db, SecretProtection protection, Guid projectId, IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(protection);
        var asked = names.ToArray();
        var rows = await db.ProjectSecrets.AsNoTracking()
            .Where(s => s.ProjectId == projectId && asked.Contains(s.Name))
            .ToDictionaryAsync(s => s.Name, s => s.ProtectedValue, StringComparer.Ordinal, cancellationToken);
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (!rows.TryGetValue(name, out var encrypted))
            {
                return (null, $"The run's secret {name} was deleted from its project after the run was submitted; set it again and submit a new run");
            }

            try
            {
                values[name] = protection.Unprotect(projectId, name, encrypted);
            }
            catch (CryptographicException)
            {
                return (null, $"The run's secret {name} cannot be decrypted: the server's data protection keys it was encrypted with are gone; set it again and submit a new run");
            }
        }

        return (values, null);
    }

    private async Task<(ProjectAccess? Access, RunProblem? Problem)> ManagedAsync(Caller caller, string project, CancellationToken cancellationToken)
    {
        var (reached, problem) = await access.ProjectAsync(caller, project, cancellationToken);
        if (reached is null)
        {
            return (null, problem);
        }

        return TeamAccess.MayManageSecrets(reached) is { } refused ? (null, refused) : (reached, null);
    }

    private static RunProblem Invalid(string field, string message) => RunProblem.Invalid(new Dictionary<string, string[]> { [field] = [message] });

    private static RunProblem NoSecret(string project, string name) =>
        new(StatusCodes.Status404NotFound, $"Project '{project}' has no secret named {JobSpecRules.Quote(name)}.");
}
