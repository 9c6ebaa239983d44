using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Data.Postgres;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Teams;

/// <summary>
/// Encrypts project secrets at rest with ASP.NET Core data protection (authenticated encryption, AES-256-CBC with
/// HMACSHA256, keys rotated every 90 days and kept to decrypt older values). Each value is bound to its project and
/// name, so a value copied to another row does not decrypt. The key ring is the one the web page's cookies use: in the
/// server directory (<c>web-keys</c>) on SQLite, in the database on PostgreSQL, so that every replica decrypts what
/// another encrypted.
/// </summary>
public sealed class SecretProtection(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("LogQuota.ProjectSecrets.v1");

    public string Protect(Guid projectId, string name, string value) => For(projectId, name).Protect(value);

    /// <summary>The value; throws <see cref="System.Security.Cryptography.CryptographicException"/> when the key it was encrypted with is gone.</summary>
    public string Unprotect(Guid projectId, string name, string protectedValue) => For(projectId, name).Unprotect(protectedValue);

    private IDataProtector For(Guid projectId, string name) => _protector.CreateProtector($"{projectId:N}/{name}");
}

/// <summary>Where the server's data protection keys live, and the first key of a shared (PostgreSQL) key ring.</summary>
internal static class DataProtectionSetup
{
    /// <summary>The key directory of a SQLite server, inside its directory (its name predates secrets: the web page's cookies came first).</summary>
    public const string KeysDirectory = "web-keys";

    public static void AddServerDataProtection(this IServiceCollection services, ServerSettings settings)
    {
        var protection = services.AddDataProtection().SetApplicationName("logquota-server");
        if (settings.DatabaseProvider == DatabaseProvider.Postgres)
        {
            // The key ring's repository asks for its context type by name; the server registers the base type.
            services.AddScoped(provider => (PostgresServerDbContext)provider.GetRequiredService<ServerDbContext>());
            protection.PersistKeysToDbContext<PostgresServerDbContext>();
        }
        else
        {
            // Stored unencrypted in a directory only the server's user can read, as the admin token is.
            var keys = Path.Combine(settings.Dir, KeysDirectory);
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(keys);
            }
            else
            {
                Directory.CreateDirectory(keys, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            protection.PersistKeysToFileSystem(new DirectoryInfo(keys));
        }

        services.AddSingleton<SecretProtection>();
    }

    /// <summary>
    /// Makes the shared key ring's first key under the migrations' advisory lock: replicas started together would each
    /// make one at their first encryption, and a value encrypted with a key another replica has not loaded yet would not
    /// decrypt there until its key ring's next refresh. Later keys are made two days before they are needed, which every
    /// replica's daily refresh sees in time.
    /// </summary>
    public static async Task EnsureSharedKeyAsync(IServiceProvider services, ServerDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({PostgresDatabase.MigrationLockKey})", cancellationToken);
            try
            {
                var keys = services.GetRequiredService<IKeyManager>();
                var now = time.GetUtcNow();
                if (!keys.GetAllKeys().Any(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now.AddDays(2)))
                {
                    keys.CreateNewKey(now, now.AddDays(90));
                }
            }
            finally
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({PostgresDatabase.MigrationLockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
