using LogQuota.Server.Data;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace LogQuota.Server.Tests.Data;

/// <summary>
/// The prepared UPDATE of a plain stream page's job-row columns, on the server's real SQLite file: what it writes reads
/// back through EF exactly as EF would have written it, and a row whose position moved meanwhile is not written.
/// </summary>
public sealed class JobRowWriterTests
{
    [Fact]
    public async Task APlainPagesColumns_ReadBackThroughEf_AndARowWhosePositionMovedIsNotWritten()
    {
        await using var server = new ServerFactory(passesByTest: true);
        using var client = server.CreateAdminClient();
        var jobId = (await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "plain"))).Jobs[0].JobId;
        var hour = new DateTimeOffset(2026, 12, 8, 3, 0, 0, TimeSpan.Zero);
        var quota = new LogQuotaStatus(52_428_800, LogQuotaAction.Truncate, 4_321, hour, hour.AddHours(1), 0, null, null);
        var stored = await server.QueryAsync(db => db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.RunnerTimestamp).SingleAsync());

        await server.QueryAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId);
            job.RunnerTimestamp = stored + 500;
            job.LogQuota = quota;
            job.Live = "epoch 3 [=====>    ] 51%"u8.ToArray();
            var sqlite = (SqliteTransaction)transaction.GetDbTransaction();
            var moved = Assert.Throws<DbUpdateConcurrencyException>(() => JobRowWriter.Update(sqlite, [(job, stored + 1)]));
            Assert.Contains("moved", moved.Message, StringComparison.Ordinal);
            JobRowWriter.Update(sqlite, [(job, stored)]);
            await transaction.CommitAsync();
            return 0;
        });

        var read = await server.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId));
        Assert.Equal(stored + 500, read.RunnerTimestamp);
        Assert.Equal(quota, read.LogQuota);
        Assert.Equal("epoch 3 [=====>    ] 51%"u8.ToArray(), read.Live);
    }
}
