using LogQuota.Server.Configuration;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data;

internal static class DatabaseExtensions
{
    public static void AddServerDatabase(this IServiceCollection services, ServerSettings settings) =>
        services.AddDbContext<ServerDbContext>(options => options
            .UseSqlite(settings.ConnectionString)
            .AddInterceptors(new SqlitePragmas()));

    /// <summary>Applies pending migrations and switches the database to WAL, before anything serves or processes.</summary>
    public static async Task MigrateDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var path = db.Database.GetDbConnection().DataSource;
        if (Path.GetDirectoryName(path) is { Length: > 0 } dir)
        {
            AdminTokenFile.CreateDirectory(dir);
        }

        await db.Database.MigrateAsync(app.Lifetime.ApplicationStopping);

        // WAL lets the API read while the processor writes; the mode is stored in the file, so once is enough.
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", app.Lifetime.ApplicationStopping);
    }
}
