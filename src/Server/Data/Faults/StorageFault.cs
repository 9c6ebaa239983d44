using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data.Faults;

/// <summary>Why the database cannot be written right now: a condition of the storage, not a bug, and one that can clear.</summary>
/// <param name="Kind">A short name: <c>disk full</c>, <c>out of memory</c>, <c>too many connections</c>, <c>configuration limit
/// exceeded</c>, <c>insufficient resources</c>, <c>locked</c>, <c>read-only</c>, <c>I/O error</c>, <c>corrupt</c>, <c>unavailable</c>.</param>
/// <param name="Detail">The database's own words.</param>
public sealed record StorageFault(string Kind, string Detail)
{
    // SQLite's primary result codes (sqlite3.h); extended codes carry the primary one in their low byte.
    internal const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteNoMemory = 7;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoError = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteNotADatabase = 26;

    public override string ToString() => $"{Kind} ({Detail})";

    /// <summary>
    /// The storage fault behind <paramref name="exception"/>, or null for anything else (a bug, a constraint, a cancellation).
    /// SQLite by result code; other providers by SQLSTATE (PostgreSQL: class 53 insufficient resources, each named for
    /// what it is; 55P03 lock not available, 25006 read-only transaction, 57P0x shutdown, 08 connection), so the same rule
    /// serves both. A database that cannot be reached at all (connection refused, reset or timed out: no SQLSTATE) is
    /// <c>unavailable</c>.
    /// </summary>
    public static StorageFault? From(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case SqliteException sqlite:
                    return (sqlite.SqliteErrorCode & 0xFF) switch
                    {
                        SqliteFull => new("disk full", Words(sqlite)),
                        SqliteBusy or SqliteLocked => new("locked", Words(sqlite)),
                        SqliteReadOnly => new("read-only", Words(sqlite)),
                        SqliteIoError or SqliteNoMemory or SqliteCantOpen => new("I/O error", Words(sqlite)),
                        SqliteCorrupt or SqliteNotADatabase => new("corrupt", Words(sqlite)),
                        _ => null,
                    };
                case DbException { SqlState: { Length: 5 } state } db:
                    return state switch
                    {
                        "53100" => new("disk full", db.Message),
                        "53200" => new("out of memory", db.Message),
                        "53300" => new("too many connections", db.Message),
                        "53400" => new("configuration limit exceeded", db.Message),
                        _ when state.StartsWith("53", StringComparison.Ordinal) => new("insufficient resources", db.Message),
                        "55P03" or "40P01" or "40001" or "57014" => new("locked", db.Message),
                        "25006" => new("read-only", db.Message),
                        _ when state.StartsWith("57P0", StringComparison.Ordinal) || state.StartsWith("08", StringComparison.Ordinal) =>
                            new("unavailable", db.Message),
                        "XX001" or "XX002" => new("corrupt", db.Message),
                        _ => null,
                    };
                case Npgsql.NpgsqlException { SqlState: null } npgsql
                    when npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or TimeoutException or IOException:
                    return new("unavailable", npgsql.InnerException is { } cause ? $"{npgsql.Message} {cause.Message}" : npgsql.Message);
                case DbUpdateException or InvalidOperationException or AggregateException:
                    continue;
            }
        }

        return null;
    }

    /// <summary>"SQLite Error 13: 'database or disk is full'" without the "SQLite Error 13: " that says nothing to a person.</summary>
    private static string Words(SqliteException e)
    {
        var message = e.Message;
        var start = message.IndexOf('\'', StringComparison.Ordinal);
        var end = message.LastIndexOf('\'');
        return start >= 0 && end > start ? message[(start + 1)..end] : message;
    }
}
