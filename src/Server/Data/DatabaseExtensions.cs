using LogQuota.Server.Configuration;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data;

internal static class DatabaseExtensions
{
    /// <summary>The page size of a new database, in bytes (SQLite's largest).</summary>
    public const int PageSize = 65536;

    // SQLite's result codes for a damaged file and for one that is not a database (sqlite3.h).
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    public static void AddServerDatabase(this IServiceCollection services, ServerSettings settings)
    {
        services.AddSingleton<Faults.StorageHealth>();
        services.AddDbContext<ServerDbContext>((provider, options) => options
            // Microsoft.Data.Sqlite retries a busy database for the command timeout on top of busy_timeout's own wait
            // (30 s + 10 s: a held lock gave a 500 after 30 s). With 1 s, busy_timeout alone bounds the wait.
            .UseSqlite(settings.ConnectionString, sqlite => sqlite.CommandTimeout(1))
            .AddInterceptors(
                new SqlitePragmas(),
                new Faults.StorageCommandWatch(provider.GetRequiredService<Faults.StorageHealth>()),
                new Faults.StorageTransactionWatch(provider.GetRequiredService<Faults.StorageHealth>())));
    }

    /// <summary>Applies pending migrations and switches the database to WAL, before anything serves or processes.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var path = db.Database.GetDbConnection().DataSource;
        if (Path.GetDirectoryName(path) is { Length: > 0 } dir)
        {
            try
            {
                AdminTokenFile.CreateDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new SettingsException(
                    $"The database {path} cannot be created: its directory {dir} is unusable ({e.Message.TrimEnd('.')}); check {ServerSettingsLoader.DatabaseUrlVariable}.", e);
            }
        }

        var stopping = app.Lifetime.ApplicationStopping;
        try
        {
            await MigrateAsync(db, stopping);
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new SettingsException(
                $"The database {path} is corrupt or is not a SQLite database ({e.Message.TrimEnd('.')}): " +
                "restore it from a backup, or move it away to start with an empty one.", e);
        }
        catch (SqliteException e)
        {
            throw new SettingsException(
                $"The database {path} cannot be opened ({e.Message.TrimEnd('.')}): check {ServerSettingsLoader.DatabaseUrlVariable} and the directory's permissions.", e);
        }
    }

    private static async Task MigrateAsync(ServerDbContext db, CancellationToken stopping)
    {
        await db.Database.OpenConnectionAsync(stopping);
        try
        {
            // 64 KiB pages: a log event of a few KiB fits in its leaf page instead of a chain of overflow pages,
            // and the WAL checkpoints (each ends with an fsync) come 16 times less often for the same bytes.
            // With 4 KiB pages a 4 MiB pull checkpointed at every commit and SQLite itself stored under
            // 50 MB/s here (bench/Server.Bench). The size only takes hold while the file is still empty, so it
            // is set on this connection before the migrations create the first table; an existing database keeps its own.
            await db.Database.ExecuteSqlRawAsync($"PRAGMA page_size = {PageSize};", stopping);
            await db.Database.MigrateAsync(stopping);

            // WAL lets the API read while the processor writes; the mode is stored in the file, so once is enough.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", stopping);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }
}
