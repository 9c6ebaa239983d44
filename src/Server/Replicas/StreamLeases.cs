using System.Data.Common;
using System.Globalization;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace LogQuota.Server.Replicas;

/// <summary>
/// Which replica reads which runner's stream, on PostgreSQL: one row per runner in <c>runner_streams</c>, keyed by the runner's stored identity
/// (<c>runner_id</c>), not by how its address is written,, leased as jobs
/// are (<see cref="JobLeases"/>): taken when free or run out, renewed by the heartbeat and by every stored answer, given up
/// on a clean stop (LOCKING.md). On SQLite the server is one process and reads every stream itself.
/// </summary>
internal sealed class StreamLeases(ServerSettings settings, ReplicaIdentity replica)
{
    private const string Now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    /// <summary>
    /// Takes or renews the stream's lease: free, run out, or this replica's already. One statement, no wait. Answers -1 when
    /// this replica holds it, else the milliseconds until the holder's lease runs out (by the database's clock).
    /// </summary>
    private const string HoldSql = $"""
        WITH held AS (
            INSERT INTO runner_streams (runner_id, cursor, lease_owner, lease_expires_at, failing_since)
            VALUES (@runner, NULL, @me, {Now} + @lease_ms, NULL)
            ON CONFLICT (runner_id) DO UPDATE SET lease_owner = @me, lease_expires_at = {Now} + @lease_ms
            WHERE runner_streams.lease_owner = @me OR runner_streams.lease_owner IS NULL
               OR runner_streams.lease_expires_at IS NULL OR runner_streams.lease_expires_at < {Now}
            RETURNING runner_id)
        SELECT CASE WHEN EXISTS (SELECT 1 FROM held) THEN -1
            ELSE coalesce((SELECT greatest(lease_expires_at - {Now}, 0) FROM runner_streams WHERE runner_id = @runner), 0) END
        """;

    /// <summary>The lease of one answer being stored: renewed in its transaction, whose row lock it holds to the commit.</summary>
    private const string RenewSql = $"""
        UPDATE runner_streams SET lease_expires_at = {Now} + @lease_ms WHERE runner_id = @runner AND lease_owner = @me
        """;

    /// <summary>The heartbeat's part: every stream this replica reads.</summary>
    private const string RenewAllSql = $"""
        UPDATE runner_streams SET lease_expires_at = {Now} + @lease_ms
        WHERE lease_owner = @me AND lease_expires_at >= {Now}
        """;

    private const string ReleaseSql = $"""
        UPDATE runner_streams SET lease_expires_at = {Now} WHERE lease_owner = @me AND lease_expires_at > {Now}
        """;

    /// <summary>True when streams are leased: on PostgreSQL.</summary>
    public bool Enabled => settings.DatabaseProvider == DatabaseProvider.Postgres;

    public string Replica => replica.Id;

    /// <summary>
    /// Null when this replica may read the stream of runner <paramref name="runnerId"/> for the next lease period, else how
    /// long the replica reading it holds it still (zero when it may be taken at the next ask).
    /// </summary>
    public async Task<TimeSpan?> HoldAsync(ServerDbContext db, string runnerId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return null;
        }

        // Not through SqlQueryRaw, which would wrap the statement in a SELECT, where a WITH that writes may not stand.
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using DbCommand command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = HoldSql;
            command.Parameters.AddRange(Parameters(("runner", runnerId)));
            var left = Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
            return left < 0 ? null : TimeSpan.FromMilliseconds(left);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Renews the lease in the transaction <paramref name="db"/> has open; throws when another replica reads the stream now.</summary>
    /// <exception cref="LeaseLostException">The stream is another replica's.</exception>
    public async Task RenewInTransactionAsync(ServerDbContext db, string runnerId, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("A stream's lease is renewed inside the transaction of the answer it covers.");
        await using DbCommand command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = RenewSql;
        command.Parameters.AddRange(Parameters(("runner", runnerId)));
        if (await command.ExecuteNonQueryAsync(cancellationToken) != 1)
        {
            throw new LeaseLostException(runnerId, replica.Id);
        }
    }

    /// <summary>The heartbeat (<see cref="LeaseKeeper"/>): a stream's lease lapses only with its replica, never with a slow store.</summary>
    public async Task RenewAllAsync(ServerDbContext db, CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            await db.Database.ExecuteSqlRawAsync(RenewAllSql, Parameters(), cancellationToken);
        }
    }

    /// <summary>Gives up every stream this replica reads (a clean stop): another replica takes each over at once.</summary>
    public async Task ReleaseAllAsync(ServerDbContext db, CancellationToken cancellationToken)
    {
        if (Enabled)
        {
            await db.Database.ExecuteSqlRawAsync(ReleaseSql, Parameters(), cancellationToken);
        }
    }

    private object[] Parameters(params (string Name, object Value)[] extra) =>
    [
        new NpgsqlParameter("me", replica.Id),
        new NpgsqlParameter("lease_ms", (long)settings.JobLease.TotalMilliseconds),
        .. extra.Select(p => new NpgsqlParameter(p.Name, p.Value)),
    ];
}
