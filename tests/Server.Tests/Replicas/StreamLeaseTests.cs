using LogQuota.Server.Configuration;
using LogQuota.Server.Processing;
using LogQuota.Server.Replicas;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LogQuota.Server.Tests.Replicas;

/// <summary>
/// A runner's stream lease on PostgreSQL (LOCKING.md), against a real database: one replica reads the stream; another
/// learns how long that lease lasts still, so it asks again the moment it runs out (not up to a tenth of a lease later);
/// then it takes the stream, and the old reader can store no answer of it.
/// </summary>
public sealed class StreamLeaseTests : IDisposable
{
    private const string RunnerId = "runner-stream-lease-test";

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Postgres);

    public void Dispose() => _database.Dispose();

    [SkippableFact]
    public async Task AWaitingReplica_LearnsWhenTheHoldersLeaseRunsOut_AndTakesTheStreamThen()
    {
        await using var server = new ServerFactory(database: _database, passesByTest: true);
        var settings = server.Services.GetRequiredService<ServerSettings>();
        var a = new StreamLeases(settings, new ReplicaIdentity());
        var b = new StreamLeases(settings, new ReplicaIdentity());

        // A takes the free stream and renews it; B is told how long A holds it: at most one lease.
        Assert.Null(await HoldAsync(server, a));
        Assert.Null(await HoldAsync(server, a));
        var heldFor = await HoldAsync(server, b);
        Assert.NotNull(heldFor);
        Assert.InRange(heldFor.Value, TimeSpan.FromTicks(1), settings.JobLease);
        Assert.Equal(a.Replica, Owner());

        // Whatever is left, B asks again as A's lease runs out, or after a tenth of a lease if that comes first.
        _database.Execute($"UPDATE runner_streams SET lease_expires_at = {NowMs} + 600000 WHERE runner_id = '{RunnerId}'");
        Assert.InRange((await HoldAsync(server, b))!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.Equal(settings.JobLease / 10, RunnerStreamReader.AskAgainAfter(TimeSpan.FromMinutes(10), settings.JobLease));
        Assert.Equal(TimeSpan.FromMilliseconds(201), RunnerStreamReader.AskAgainAfter(TimeSpan.FromMilliseconds(200), settings.JobLease));
        Assert.Equal(TimeSpan.FromMilliseconds(1), RunnerStreamReader.AskAgainAfter(TimeSpan.Zero, settings.JobLease));

        // A stalls past its lease: B's next ask takes the stream, and A learns it holds it no more.
        _database.Execute($"UPDATE runner_streams SET lease_expires_at = {NowMs} - 1 WHERE runner_id = '{RunnerId}'");
        Assert.Null(await HoldAsync(server, b));
        Assert.Equal(b.Replica, Owner());
        Assert.NotNull(await HoldAsync(server, a));

        // A, back from its stall, can store no answer of the stream; B can.
        await Assert.ThrowsAsync<LeaseLostException>(() => RenewInTransactionAsync(server, a));
        await RenewInTransactionAsync(server, b);

        // B stops cleanly: what is left of its lease is nothing, and A takes the stream at its next ask.
        await server.QueryAsync(async db => { await b.ReleaseAllAsync(db, CancellationToken.None); return 0; });
        Assert.InRange((await HoldAsync(server, a)) ?? TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
        Assert.Null(await HoldAsync(server, a));
        Assert.Equal(a.Replica, Owner());
    }

    private const string NowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    private static Task<TimeSpan?> HoldAsync(ServerFactory server, StreamLeases leases) =>
        server.QueryAsync(db => leases.HoldAsync(db, RunnerId, CancellationToken.None));

    private static Task<int> RenewInTransactionAsync(ServerFactory server, StreamLeases leases) =>
        server.QueryAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await leases.RenewInTransactionAsync(db, RunnerId, CancellationToken.None);
            await transaction.CommitAsync();
            return 0;
        });

    private string Owner()
    {
        using var connection = _database.Open();
        using var command = new NpgsqlCommand($"SELECT lease_owner FROM runner_streams WHERE runner_id = '{RunnerId}'", connection);
        return (string)command.ExecuteScalar()!;
    }
}
