using LogQuota.Shared.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace LogQuota.Server.Data;

/// <summary>
/// Appends a pull's log events to <c>log_events</c> with one prepared INSERT on the context's own connection and
/// transaction. Through the change tracker every event cost an entity, its snapshot and a generated command,
/// which held ingest to a fraction of what SQLite writes (bench/Server.Bench); the rows are never read back
/// through this context, so nothing needs tracking.
/// </summary>
internal static class LogEventWriter
{
    private const string Insert = "INSERT INTO log_events (job_id, timestamp, message) VALUES ($job_id, $timestamp, $message);";

    /// <summary>Inserts <paramref name="logs"/> in the transaction <paramref name="db"/> has open, so they commit
    /// (or roll back) together with whatever else that transaction saves.</summary>
    public static void Append(ServerDbContext db, Guid jobId, IReadOnlyList<LogEvent> logs)
    {
        if (logs.Count == 0)
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction() as SqliteTransaction
            ?? throw new InvalidOperationException("Log events are appended inside the transaction that also moves the pull position.");
        using var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = Insert;

        // A Guid bound as TEXT is written upper-case, exactly as EF writes jobs.id, so the foreign key and every
        // EF query on job_id match these rows.
        command.Parameters.Add("$job_id", SqliteType.Text).Value = jobId;
        var timestamp = command.Parameters.Add("$timestamp", SqliteType.Integer);
        var message = command.Parameters.Add("$message", SqliteType.Blob);
        command.Prepare();
        foreach (var log in logs)
        {
            timestamp.Value = log.Timestamp;
            message.Value = log.Message;

            // Synchronous on purpose: Microsoft.Data.Sqlite has no asynchronous I/O, its async calls run the same
            // code and only add a task per row.
            command.ExecuteNonQuery();
        }
    }
}
