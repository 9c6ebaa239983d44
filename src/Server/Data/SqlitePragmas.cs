using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace LogQuota.Server.Data;

/// <summary>
/// Sets the per-connection pragmas on every connection EF opens. <c>busy_timeout</c>: the API and the job
/// processor write concurrently, and SQLite has one writer at a time; waiting up to 10 s for the lock
/// turns a collision into a short wait instead of a "database is locked" error. <c>synchronous = NORMAL</c>:
/// in WAL mode a committed transaction survives the process being killed (SPEC §6); only a power cut can
/// roll back the last commits, and those are pulled again since the pull position rolls back with them.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    /// <summary>How long a connection waits for a lock another process holds; <see cref="SqliteWriteQueue"/> gives the
    /// server's own writers the same limit for their turn.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(10);

    private static readonly string Pragmas = $"PRAGMA busy_timeout = {(int)BusyTimeout.TotalMilliseconds}; PRAGMA synchronous = NORMAL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
