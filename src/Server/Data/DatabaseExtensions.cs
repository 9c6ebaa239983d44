using LogQuota.Server.Configuration;
using LogQuota.Server.Data.Postgres;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data;

internal static class DatabaseExtensions
{
    /// <summary>The page size of a new SQLite database, in bytes.</summary>
    public const int PageSize = SqliteDatabase.PageSize;

    /// <summary>
    /// Registers the context on the provider <c>DSTACK_DATABASE_URL</c> names. A SQLite file is locked first: SQLite is
    /// one server process (SPEC §4), and the directory lock alone lets a server on another directory open the same file.
    /// </summary>
    /// <exception cref="SettingsException">The SQLite file is in use by another server, or its lock cannot be taken.</exception>
    public static void AddServerDatabase(this IServiceCollection services, ServerSettings settings)
    {
        if (settings.DatabaseProvider == DatabaseProvider.Postgres)
        {
            services.AddDbContext<ServerDbContext, PostgresServerDbContext>(options => options.UseNpgsql(settings.ConnectionString));
            return;
        }

        // Through a factory, so that the container owns the lock and disposes it with the host.
        var fileLock = SqliteDatabase.LockFile(settings.ConnectionString);
        services.AddSingleton(_ => fileLock);
        services.AddHostedService<SqliteFileLockHolder>();
        services.AddDbContext<ServerDbContext>(options => options
            .UseSqlite(settings.ConnectionString)
            .AddInterceptors(new SqlitePragmas()));
    }

    /// <summary>Applies pending migrations, before anything serves or processes.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<ServerSettings>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseExtensions));
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var stopping = app.Lifetime.ApplicationStopping;
        if (settings.DatabaseProvider == DatabaseProvider.Postgres)
        {
            await PostgresDatabase.MigrateAsync(db, logger, stopping);
        }
        else
        {
            await SqliteDatabase.MigrateAsync(db, logger, stopping);
        }
    }
}
