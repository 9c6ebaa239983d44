using LogQuota.Server.Configuration;
using LogQuota.Server.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

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
        services.AddSingleton<Faults.StorageHealth>();
        services.AddSingleton<Logs.LogFeed>();
        services.AddSingleton<Logs.LogFeedInterceptor>();
        if (settings.DatabaseProvider == DatabaseProvider.Postgres)
        {
            services.AddDbContext<ServerDbContext, PostgresServerDbContext>((provider, options) => options
                .UseNpgsql(settings.ConnectionString)
                .AddInterceptors(StorageWatches(provider)));
            return;
        }

        // Through a factory, so that the container owns the lock and disposes it with the host.
        var fileLock = SqliteDatabase.LockFile(settings.ConnectionString);
        services.AddSingleton(_ => fileLock);
        services.AddHostedService<SqliteFileLockHolder>();
        services.AddSingleton(provider => new SqliteWriteQueue(
            provider.GetRequiredService<TimeProvider>(),
            SqliteWriteQueue.WaitHistogram(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>())));
        services.AddDbContext<ServerDbContext>((provider, options) => options
            // Microsoft.Data.Sqlite retries a busy database for the command timeout on top of busy_timeout's own wait
            // (30 s + 10 s: a held lock gave a 500 after 30 s). With 1 s, busy_timeout alone bounds the wait.
            .UseSqlite(settings.ConnectionString, sqlite => sqlite.CommandTimeout(1))
            .AddInterceptors(new SqlitePragmas(), provider.GetRequiredService<SqliteWriteQueue>())
            .AddInterceptors(StorageWatches(provider)));
    }

    /// <summary>What tells <see cref="Faults.StorageHealth"/> whether the database can be written, and log followers that a run was stored, on either provider.</summary>
    private static IInterceptor[] StorageWatches(IServiceProvider provider)
    {
        var health = provider.GetRequiredService<Faults.StorageHealth>();
        return [new Faults.StorageCommandWatch(health), new Faults.StorageTransactionWatch(health), provider.GetRequiredService<Logs.LogFeedInterceptor>()];
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
            await Teams.DataProtectionSetup.EnsureSharedKeyAsync(app.Services, db, app.Services.GetRequiredService<TimeProvider>(), stopping);
        }
        else
        {
            await SqliteDatabase.MigrateAsync(db, logger, stopping);
        }
    }
}
