using LogQuota.Server.Configuration;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace LogQuota.Server.Data.Postgres;

/// <summary>Start-up of a PostgreSQL database: its migrations, under an advisory lock (LOCKING.md).</summary>
internal static class PostgresDatabase
{
    /// <summary>
    /// The advisory lock key of migrations, "LogQuota" in ASCII: replicas starting together take turns, so one migrates
    /// and the others find nothing pending. EF's own migration lock is taken after the history table is created, and
    /// two replicas creating it at once collide on PostgreSQL's catalog.
    /// </summary>
    public const long MigrationLockKey = 0x4C6F6751756F7461;

    public static async Task MigrateAsync(ServerDbContext db, ILogger logger, CancellationToken stopping)
    {
        var target = new NpgsqlConnectionStringBuilder(db.Database.GetConnectionString());
        var where = $"{target.Database} on {target.Host}:{target.Port}";
        var locked = false;
        try
        {
            await db.Database.OpenConnectionAsync(stopping);
            try
            {
                // Session-level: held across EF's own transactions, released below or when the connection drops (a replica
                // killed while migrating leaves no lock behind, and its migration transaction rolls back).
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLockKey})", stopping);
                locked = true;
                var pending = (await db.Database.GetPendingMigrationsAsync(stopping)).ToList();
                await db.Database.MigrateAsync(stopping);
                if (pending.Count > 0)
                {
                    logger.LogInformation("Applied {Count} migrations to the PostgreSQL database {Database}: {Migrations}", pending.Count, where, string.Join(", ", pending));
                }
            }
            finally
            {
                if (locked)
                {
                    // Before the connection goes back to the pool; Npgsql's reset on return would release it too.
                    await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLockKey})", CancellationToken.None);
                }

                await db.Database.CloseConnectionAsync();
            }
        }
        catch (InvalidOperationException e) when (e.InnerException is NpgsqlException inner)
        {
            // EF reports a failure it deems transient (connection refused, a timeout) wrapped in its own exception.
            throw Describe(inner, where);
        }
        catch (NpgsqlException e)
        {
            throw Describe(e, where);
        }
    }

    private static SettingsException Describe(NpgsqlException exception, string where) => exception switch
    {
        PostgresException e => new SettingsException(
                $"The PostgreSQL database {where} cannot be used ({e.SqlState}: {e.MessageText.TrimEnd('.')}); check {ServerSettingsLoader.DatabaseUrlVariable}.", e),
        var e => new SettingsException(
                $"The PostgreSQL database {where} cannot be reached ({Innermost(e).TrimEnd('.')}); check {ServerSettingsLoader.DatabaseUrlVariable} and that the server is up.", e),
    };

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e.Message;
    }
}
