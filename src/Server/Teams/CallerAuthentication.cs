using System.Security.Cryptography;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Security;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Teams;

/// <summary>From a presented token to the <see cref="Caller"/> it proves, for the API's bearer header and the web page's sign-in alike.</summary>
public sealed class CallerAuthentication(ServerDbContext db, ServerSettings settings)
{
    private readonly BearerToken _admin = new(settings.AdminToken);

    /// <summary>The bootstrap admin for the admin token, the user whose token it is, or null.</summary>
    public async Task<Caller?> AuthenticateAsync(string? token, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token))
        {
            return null;
        }

        token = token.Trim();
        if (_admin.MatchesToken(token))
        {
            return Caller.BootstrapAdmin;
        }

        var hash = UserTokens.Hash(token);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.TokenHash == hash, cancellationToken);

        // The index found the row by the hash; the comparison that decides runs in constant time all the same.
        return user is not null && CryptographicOperations.FixedTimeEquals(user.TokenHash, hash) ? Caller.Of(user) : null;
    }

    /// <summary>The token fingerprint a web session keeps for <paramref name="caller"/>; null when the user no longer exists.</summary>
    public async Task<string?> FingerprintAsync(Caller caller, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (caller.UserId is not { } id)
        {
            return UserTokens.Fingerprint(UserTokens.Hash(settings.AdminToken));
        }

        var hash = await db.Users.AsNoTracking().Where(u => u.Id == id).Select(u => u.TokenHash).FirstOrDefaultAsync(cancellationToken);
        return hash is null ? null : UserTokens.Fingerprint(hash);
    }
}
