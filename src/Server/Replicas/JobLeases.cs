using System.Data.Common;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using NpgsqlTypes;

namespace LogQuota.Server.Replicas;

/// <summary>
/// Which replica processes which job, on PostgreSQL: claims with <c>FOR UPDATE SKIP LOCKED</c>, leases that expire,
/// renewed by a heartbeat, every pass and every stored page, and a history of them (LOCKING.md). On SQLite the server is one
/// process (its file is locked), so every job is its own and nothing is written.
/// </summary>
internal sealed class JobLeases(ServerSettings settings, ReplicaIdentity replica)
{
    /// <summary>The database's clock in milliseconds: the one clock every replica's leases are measured on.</summary>
    private const string Now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    /// <summary>
    /// The jobs on runners this replica may process now, each claimed or renewed for one lease period: its own, and
    /// those whose lease has run out (their replica died or stalled) on a runner it can reach. A job on another
    /// replica's local runner is taken once its lease has run out only to be ended: that runner died with its replica.
    /// Rows another replica is claiming at this instant are skipped, not waited for.
    /// </summary>
    private const string ClaimSql = $"""
        WITH clock AS (SELECT {Now} AS now),
        candidates AS (
            SELECT j.id, j.lease_owner, j.lease_expires_at FROM jobs j, clock
            WHERE j.runner IS NOT NULL AND NOT j.runner_released
              AND (@include_unsubmitted OR j.status <> 'Provisioning')
              AND (j.lease_owner = @me OR j.lease_expires_at IS NULL OR j.lease_expires_at < clock.now)
              AND (j.runner = ANY(@runners) OR j.embedded_runner)
              AND (NOT (j.runner = ANY(@quiet)) OR j.status IN ('Provisioning', 'Done', 'Failed', 'Terminated', 'Aborted')
                OR (j.stop_requested AND NOT j.stop_sent) OR j.lease_owner IS DISTINCT FROM @me)
            ORDER BY j.submitted_at
            FOR UPDATE OF j SKIP LOCKED),
        claimed AS (
            UPDATE jobs j SET lease_owner = @me, lease_expires_at = clock.now + @lease_ms
            FROM candidates c, clock WHERE j.id = c.id
            RETURNING j.id, clock.now, EXISTS (
                SELECT 1 FROM job_leases l WHERE l.id = (SELECT max(m.id) FROM job_leases m WHERE m.job_id = j.id)
                  AND l.owner = @me AND l.expires_at >= clock.now) AS renewed),
        started AS (
            INSERT INTO job_leases (job_id, owner, acquired_at, expires_at)
            SELECT id, @me, now, now + @lease_ms FROM claimed WHERE NOT renewed),
        extended AS (
            UPDATE job_leases l SET expires_at = claimed.now + @lease_ms FROM claimed
            WHERE claimed.renewed AND l.id = (SELECT max(m.id) FROM job_leases m WHERE m.job_id = claimed.id))
        SELECT id AS "Value" FROM claimed
        """;

    /// <summary>The heartbeat of one page: extends this replica's lease inside the page's transaction, and holds the
    /// job's row lock until it commits, so no claim can take the job while the page is being stored.</summary>
    private const string RenewSql = $"""
        WITH clock AS (SELECT {Now} AS now),
        renewed AS (
            UPDATE jobs j SET lease_expires_at = clock.now + @lease_ms FROM clock
            WHERE j.id = @job AND j.lease_owner = @me RETURNING j.id, clock.now),
        extended AS (
            UPDATE job_leases l SET expires_at = renewed.now + @lease_ms FROM renewed
            WHERE l.id = (SELECT max(m.id) FROM job_leases m WHERE m.job_id = renewed.id AND m.owner = @me))
        SELECT count(*) FROM renewed
        """;

    /// <summary>The heartbeat: extends every lease this replica holds, whatever its passes are doing. Rows a stream answer or
    /// a page is writing right now are skipped, not waited for (that answer renews nothing of its jobs, but the next beat
    /// does): the heartbeat never waits on a transaction that holds several job rows, so no two can wait on each other.</summary>
    private const string RenewAllSql = $"""
        WITH clock AS (SELECT {Now} AS now),
        mine AS (
            SELECT j.id FROM jobs j WHERE j.lease_owner = @me AND NOT j.runner_released FOR UPDATE SKIP LOCKED),
        renewed AS (
            UPDATE jobs j SET lease_expires_at = clock.now + @lease_ms FROM clock, mine
            WHERE j.id = mine.id RETURNING j.id, clock.now)
        UPDATE job_leases l SET expires_at = renewed.now + @lease_ms FROM renewed
        WHERE l.id = (SELECT max(m.id) FROM job_leases m WHERE m.job_id = renewed.id AND m.owner = @me)
        """;

    /// <summary>Ends this replica's leases at once, so another replica takes its jobs on its next pass.</summary>
    private const string ReleaseSql = $"""
        WITH clock AS (SELECT {Now} AS now),
        released AS (
            UPDATE jobs j SET lease_expires_at = clock.now FROM clock
            WHERE j.lease_owner = @me AND j.lease_expires_at > clock.now RETURNING j.id, clock.now)
        UPDATE job_leases l SET expires_at = released.now FROM released
        WHERE l.owner = @me AND l.job_id = released.id AND l.expires_at > released.now
        """;

    /// <summary>The statuses in which a job whose events its runner's stream carries may need a call of its own: a submit, or its delete.</summary>
    private static readonly JobStatus[] CallDue = [JobStatus.Provisioning, JobStatus.Done, JobStatus.Failed, JobStatus.Terminated, JobStatus.Aborted];

    /// <summary>True when leases are kept: on PostgreSQL.</summary>
    public bool Enabled => settings.DatabaseProvider == DatabaseProvider.Postgres;

    /// <summary>This replica's name in <c>jobs.lease_owner</c> and <c>job_leases.owner</c>.</summary>
    public string Replica => replica.Id;

    /// <summary>
    /// The ids of the jobs on a runner this replica processes in this pass, oldest first. A job on a runner of
    /// <paramref name="quiet"/> (its stream carries its events) is one only when a call may be due (it is being submitted,
    /// a stop waits, it ended), or, with replicas, when this replica takes it over: so a pass over thousands of running
    /// jobs reads and writes only the few that need it, and the heartbeat alone renews the rest (LOCKING.md).
    /// </summary>
    /// <param name="runners">The runners this replica can reach (its local one, or DSTACK_SERVER_RUNNERS).</param>
    /// <param name="quiet">The runners, by address, whose stream is carried.</param>
    public async Task<List<Guid>> ClaimAsync(
        ServerDbContext db, IReadOnlyList<string> runners, bool includeUnsubmitted, IReadOnlyCollection<string> quiet, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            var carried = quiet.ToList();
            return await db.Jobs
                .Where(j => j.Runner != null && !j.RunnerReleased)
                .Where(j => includeUnsubmitted || j.Status != JobStatus.Provisioning)
                .Where(j => !carried.Contains(j.Runner!) || CallDue.Contains(j.Status) || (j.StopRequested && !j.StopSent))
                .OrderBy(j => j.SubmittedAt)
                .Select(j => j.Id)
                .ToListAsync(cancellationToken);
        }

        return await db.Database.SqlQueryRaw<Guid>(
                ClaimSql,
                new NpgsqlParameter("me", replica.Id),
                new NpgsqlParameter("lease_ms", LeaseMilliseconds),
                new NpgsqlParameter("include_unsubmitted", includeUnsubmitted),
                new NpgsqlParameter("runners", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = runners.ToArray() },
                new NpgsqlParameter("quiet", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = quiet.ToArray() })
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Renews the lease of <paramref name="jobId"/> in the transaction <paramref name="db"/> has open (a page being
    /// stored); throws when another replica holds it now, so that the page rolls back unstored.
    /// </summary>
    /// <exception cref="LeaseLostException">The lease is another replica's.</exception>
    public async Task RenewInTransactionAsync(ServerDbContext db, Guid jobId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A lease is renewed inside the transaction of the page it covers.");
        await using var command = Command(transaction, RenewSql, ("job", jobId));
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! != 1)
        {
            throw new LeaseLostException(jobId, replica.Id);
        }
    }

    /// <summary>
    /// Extends every lease this replica holds (<see cref="LeaseKeeper"/>, three times per lease period): a lease then
    /// lapses only when its replica is dead or cannot reach the database, never because one of its passes is slow.
    /// </summary>
    public async Task RenewAllAsync(ServerDbContext db, CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            await db.Database.ExecuteSqlRawAsync(
                RenewAllSql, [new NpgsqlParameter("me", replica.Id), new NpgsqlParameter("lease_ms", LeaseMilliseconds)], cancellationToken);
        }
    }

    /// <summary>Gives up every lease of this replica (a clean shutdown): its jobs on shared runners go on elsewhere at once.</summary>
    public async Task ReleaseAllAsync(ServerDbContext db, CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            await db.Database.ExecuteSqlRawAsync(ReleaseSql, [new NpgsqlParameter("me", replica.Id)], cancellationToken);
        }
    }

    /// <summary>The database's clock now: where a lease taken outside <see cref="ClaimAsync"/> starts.</summary>
    public static async Task<DateTimeOffset> DatabaseNowAsync(ServerDbContext db, CancellationToken cancellationToken) =>
        DateTimeOffset.FromUnixTimeMilliseconds(
            await db.Database.SqlQueryRaw<long>($"SELECT {Now} AS \"Value\"").SingleAsync(cancellationToken));

    /// <summary>The lease period in milliseconds (<c>DSTACK_SERVER_JOB_LEASE</c>).</summary>
    public long LeaseMilliseconds => (long)settings.JobLease.TotalMilliseconds;

    private DbCommand Command(DbTransaction transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.Parameters.Add(new NpgsqlParameter("me", replica.Id));
        command.Parameters.Add(new NpgsqlParameter("lease_ms", LeaseMilliseconds));
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value));
        }

        return command;
    }
}
