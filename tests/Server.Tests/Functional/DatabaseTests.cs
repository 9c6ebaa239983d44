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
}
