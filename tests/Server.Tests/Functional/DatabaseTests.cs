using LogQuota.Server.Data;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Functional;

public sealed class DatabaseTests
{
    [Fact]
    public async Task NewDatabase_IsCreatedWithLargePages_InWalMode()
    {
        await using var server = new ServerFactory();

        var (pageSize, journalMode) = await server.QueryAsync(async db =>
        {
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA page_size;";
            var size = (long)(await command.ExecuteScalarAsync())!;
            command.CommandText = "PRAGMA journal_mode;";
            return (size, (string)(await command.ExecuteScalarAsync())!);
        });

        Assert.Equal(DatabaseExtensions.PageSize, pageSize);
        Assert.Equal("wal", journalMode);
    }

    /// <summary>The migrations (hand-written ones included) build exactly the model the code uses: a column added to an
    /// entity without its migration, or a snapshot that drifted from the migrations, fails here rather than in use.</summary>
    [Fact]
    public async Task Migrations_MatchTheModel_AndAreAllApplied()
    {
        await using var server = new ServerFactory();

        var (pendingChanges, pendingMigrations, columns) = await server.QueryAsync(async db => (
            db.Database.HasPendingModelChanges(),
            (await db.Database.GetPendingMigrationsAsync()).ToList(),
            await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM pragma_table_info('jobs')").ToListAsync()));

        Assert.False(pendingChanges);
        Assert.Empty(pendingMigrations);
        Assert.Contains("live", columns);
    }
}
