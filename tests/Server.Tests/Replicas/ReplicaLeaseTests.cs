using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Replicas;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace LogQuota.Server.Tests.Replicas;

/// <summary>
/// Job leases on PostgreSQL (LOCKING.md), against a real database: a replica holds its jobs for as long as its own
/// lease (one row) lasts, so its heartbeat writes that row and no job's, however many it holds; a live replica's jobs are
/// never taken; once its lease has run out another replica takes them, closing the old leases at the moment they ran
/// out; the old holder can then store no page of them; and a clean stop hands everything on at once.
/// </summary>
public sealed class ReplicaLeaseTests : IDisposable
{
    private const int Jobs = 200;
    private const string Runner = "http://runner.invalid:11001";

    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Postgres);

    public void Dispose() => _database.Dispose();

    [SkippableFact]
    public async Task TheHeartbeat_WritesOneRowForAnyNumberOfJobs_AndOnlyAnExpiredReplicasJobsAreTakenOver()
    {
        await using var server = new ServerFactory(database: _database, passesByTest: true);
        using var client = server.CreateAdminClient();
        for (var i = 0; i < Jobs; i++)
        {
            await client.SubmitAsync(new SubmitRunRequest(["sleep 600"], RunName: $"held-{i}", Tty: false));
        }

        var settings = server.Services.GetRequiredService<ServerSettings>();
        var a = new JobLeases(settings, new ReplicaIdentity());
        var b = new JobLeases(settings, new ReplicaIdentity());

        // Replica A assigned every job to a runner both can reach, and holds them.
        var ids = await server.QueryAsync(db => db.Jobs.Select(j => j.Id).ToListAsync());
        Assert.Equal(Jobs, ids.Count);
        await server.QueryAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await db.Jobs.ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Runner, Runner).SetProperty(j => j.Status, JobStatus.Running).SetProperty(j => j.LeaseOwner, a.Replica));
            await a.OpenAsync(db, ids, CancellationToken.None);
            await transaction.CommitAsync();
            return 0;
        });
        await server.QueryAsync(async db => { await a.RenewAllAsync(db, CancellationToken.None); return 0; });

        // A's heartbeats write A's row and no job's: every job row keeps its version.
        var versions = JobRowVersions();
        var leaseBefore = Scalar($"SELECT expires_at FROM replica_leases WHERE owner = '{a.Replica}'");
        await Task.Delay(20);
        for (var beat = 0; beat < 3; beat++)
        {
            await server.QueryAsync(async db => { await a.RenewAllAsync(db, CancellationToken.None); return 0; });
        }

        Assert.Equal(versions, JobRowVersions());
        Assert.True(Scalar($"SELECT expires_at FROM replica_leases WHERE owner = '{a.Replica}'") > leaseBefore, "A's lease was not extended");

        // While A's lease lasts, B takes none of its jobs; A's own pass claims them all and rewrites none.
        Assert.Empty(await ClaimAsync(server, b));
        Assert.Equal(Jobs, (await ClaimAsync(server, a)).Count);
        Assert.Equal(versions, JobRowVersions());

        // A's lease runs out (its heartbeat stopped a lease period ago): B takes every job over.
        _database.Execute($"UPDATE replica_leases SET expires_at = expires_at - 3600000 WHERE owner = '{a.Replica}'");
        var expiredAt = Scalar($"SELECT expires_at FROM replica_leases WHERE owner = '{a.Replica}'");
        Assert.Equal(Jobs, (await ClaimAsync(server, b)).Count);
        Assert.Equal(Jobs, Scalar($"SELECT count(*) FROM jobs WHERE lease_owner = '{b.Replica}'"));

        // The history: A's lease of each job closed when A's lease ran out, B's opened after it and still open.
        Assert.Equal(Jobs, Scalar($"SELECT count(*) FROM job_leases WHERE owner = '{a.Replica}' AND expires_at = {expiredAt}"));
        Assert.Equal(Jobs, Scalar($"SELECT count(*) FROM job_leases WHERE owner = '{b.Replica}' AND expires_at IS NULL AND acquired_at >= {expiredAt}"));

        // A, back from its stall, can store no page of a job it lost.
        await Assert.ThrowsAsync<LeaseLostException>(() => server.QueryAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await a.HoldInTransactionAsync(db, ids[0], CancellationToken.None);
            return 0;
        }));

        // B stops cleanly: its lease ends at once, its jobs' leases close, and A (beating again) takes them back.
        await server.QueryAsync(async db => { await b.ReleaseAllAsync(db, CancellationToken.None); await a.RenewAllAsync(db, CancellationToken.None); return 0; });
        Assert.Equal(0, Scalar($"SELECT count(*) FROM job_leases WHERE owner = '{b.Replica}' AND expires_at IS NULL"));
        Assert.Equal(Jobs, (await ClaimAsync(server, a)).Count);
        Assert.Equal(Jobs, Scalar($"SELECT count(*) FROM jobs WHERE lease_owner = '{a.Replica}'"));
        Assert.Equal(Jobs, Scalar("SELECT count(*) FROM job_leases WHERE expires_at IS NULL"));
    }

    private static Task<List<Guid>> ClaimAsync(ServerFactory server, JobLeases leases) =>
        server.QueryAsync(db => leases.ClaimAsync(db, [Runner], includeUnsubmitted: true, [], CancellationToken.None));

    /// <summary>Each job row's version (<c>xmin</c>): it changes whenever the row is written.</summary>
    private List<string> JobRowVersions()
    {
        using var connection = _database.Open();
        using var command = new NpgsqlCommand("SELECT id::text || ':' || xmin::text FROM jobs ORDER BY id", connection);
        using var reader = command.ExecuteReader();
        var versions = new List<string>();
        while (reader.Read())
        {
            versions.Add(reader.GetString(0));
        }

        return versions;
    }

    private long Scalar(string sql)
    {
        using var connection = _database.Open();
        using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
