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
/// Which replica processes which job, on PostgreSQL: claims with <c>FOR UPDATE SKIP LOCKED</c>, held for as long as the
/// holder's own lease (<c>replica_leases</c>, one row per replica, renewed by its heartbeat) has not run out, and a
/// history of them (LOCKING.md). A job has no expiry of its own, so the heartbeat writes one row however many jobs a
/// replica holds. On SQLite the server is one process (its file is locked), so every job is its own and nothing is written.
/// </summary>
internal sealed class JobLeases(ServerSettings settings, ReplicaIdentity replica)
{
    /// <summary>The database's clock in milliseconds: the one clock every replica's leases are measured on.</summary>
    private const string Now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    /// <summary>
    /// The jobs on runners this replica may process now: its own, and those whose holder's replica lease has run out
    /// (the replica died, stalled or lost the database) or that no replica holds, on a runner it can reach. A job on
    /// another replica's local runner is taken once that replica's lease has run out only to be ended: that runner died
    /// with its replica. Rows another replica is claiming at this instant are skipped, not waited for. Only a job taken
    /// from another holder is written (its owner, and its history: the old lease closed at the moment it ran out, a new
    /// one opened); a job already this replica's is locked for the statement and returned, never rewritten.
    /// </summary>
    private const string ClaimSql = $"""
        WITH clock AS (SELECT {Now} AS now),
        candidates AS (
            SELECT j.id, j.lease_owner AS holder, r.expires_at AS holder_expired_at FROM jobs j
            CROSS JOIN clock LEFT JOIN replica_leases r ON r.owner = j.lease_owner
            WHERE j.runner IS NOT NULL AND NOT j.runner_released
              AND (@include_unsubmitted OR j.status <> 'Provisioning')
              AND (j.lease_owner = @me OR j.lease_owner IS NULL OR r.expires_at IS NULL OR r.expires_at <= clock.now)
              AND (j.runner = ANY(@runners) OR j.embedded_runner)
              AND (NOT (j.runner = ANY(@quiet)) OR j.status IN ('Provisioning', 'Done', 'Failed', 'Terminated', 'Aborted')
                OR (j.stop_requested AND NOT j.stop_sent) OR j.lease_owner IS DISTINCT FROM @me)
            ORDER BY j.submitted_at
            FOR UPDATE OF j SKIP LOCKED),
        taken AS (
            UPDATE jobs j SET lease_owner = @me FROM candidates c
            WHERE j.id = c.id AND c.holder IS DISTINCT FROM @me
            RETURNING j.id, c.holder_expired_at),
        closed AS (
            UPDATE job_leases l SET expires_at = COALESCE(taken.holder_expired_at, clock.now) FROM taken, clock
            WHERE l.job_id = taken.id AND l.expires_at IS NULL),
        opened AS (
            INSERT INTO job_leases (job_id, owner, acquired_at, expires_at)
            SELECT taken.id, @me, clock.now, NULL FROM taken, clock)
        SELECT id AS "Value" FROM candidates
        """;

    /// <summary>A page's hold on its job: locks the job's row to the page's commit if this replica holds it, so no claim
    /// can take the job while the page is being stored. Writes nothing.</summary>
    private const string HoldSql = """
        SELECT count(*) FROM (SELECT j.id FROM jobs j WHERE j.id = @job AND j.lease_owner = @me FOR NO KEY UPDATE) held
        """;

    /// <summary>The history of jobs this replica has just assigned: it holds them from the assignment on.</summary>
    private const string OpenSql = $"""
        INSERT INTO job_leases (job_id, owner, acquired_at, expires_at)
        SELECT j.id, @me, {Now}, NULL FROM jobs j
        WHERE j.id = ANY(@jobs) AND j.lease_owner = @me
          AND NOT EXISTS (SELECT 1 FROM job_leases l WHERE l.job_id = j.id AND l.expires_at IS NULL)
        """;

    /// <summary>The heartbeat: this replica holds its jobs for one more lease period. One row, whatever the job count.
    /// Rows of replicas whose lease ran out an hour ago are dropped: a replica without a row holds nothing either.</summary>
    private const string BeatSql = $"""
        INSERT INTO replica_leases (owner, expires_at) VALUES (@me, {Now} + @lease_ms)
        ON CONFLICT (owner) DO UPDATE SET expires_at = excluded.expires_at;
        DELETE FROM replica_leases WHERE expires_at < {Now} - 3600000;
        """;

    /// <summary>Ends this replica's lease at once, and with it the leases of all its jobs, so another replica takes its
    /// jobs on its next pass.</summary>
    private const string ReleaseSql = $"""
        UPDATE replica_leases SET expires_at = {Now} WHERE owner = @me AND expires_at > {Now};
        UPDATE job_leases SET expires_at = {Now} WHERE owner = @me AND expires_at IS NULL;
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
    /// jobs reads only the few that need it, and writes only those it takes over (LOCKING.md).
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
                new NpgsqlParameter("include_unsubmitted", includeUnsubmitted),
                new NpgsqlParameter("runners", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = runners.ToArray() },
                new NpgsqlParameter("quiet", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = quiet.ToArray() })
            .ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Holds <paramref name="jobId"/> in the transaction <paramref name="db"/> has open (a page being stored) until it
    /// commits; throws when another replica holds it now, so that the page rolls back unstored.
    /// </summary>
    /// <exception cref="LeaseLostException">The lease is another replica's.</exception>
    public async Task HoldInTransactionAsync(ServerDbContext db, Guid jobId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A job is held inside the transaction of the page it covers.");
        await using var command = Command(transaction, HoldSql, ("job", jobId));
        if ((long)(await command.ExecuteScalarAsync(cancellationToken))! != 1)
        {
            throw new LeaseLostException(jobId, replica.Id);
        }
    }

    /// <summary>Records that this replica holds <paramref name="jobIds"/> from now: the jobs it has just assigned, with
    /// <see cref="JobEntity.LeaseOwner"/> set in the same transaction.</summary>
    public async Task OpenAsync(ServerDbContext db, IReadOnlyCollection<Guid> jobIds, CancellationToken cancellationToken)
    {
        if (Enabled && jobIds.Count > 0)
        {
            await db.Database.ExecuteSqlRawAsync(
                OpenSql,
                [new NpgsqlParameter("me", replica.Id), new NpgsqlParameter("jobs", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = jobIds.ToArray() }],
                cancellationToken);
        }
    }

    /// <summary>
    /// Extends this replica's lease, and so every job it holds (<see cref="LeaseKeeper"/>, at start-up and three times
    /// per lease period): its jobs then go elsewhere only when it is dead or cannot reach the database, never because
    /// one of its passes is slow. One row is written, however many jobs it holds.
    /// </summary>
    public async Task RenewAllAsync(ServerDbContext db, CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            await db.Database.ExecuteSqlRawAsync(
                BeatSql, [new NpgsqlParameter("me", replica.Id), new NpgsqlParameter("lease_ms", LeaseMilliseconds)], cancellationToken);
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

    /// <summary>The database's clock now: what every lease is measured on.</summary>
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
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter(name, value));
        }

        return command;
    }
}
