using System.Globalization;
using System.Text;
using System.Text.Json;
using LogQuota.Server.Data.Postgres;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using LogQuota.Shared.Logs;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace LogQuota.Server.Data;

/// <summary>
/// Appends a pull's log events to <c>log_events</c> on the context's own connection and transaction: with prepared
/// multi-row INSERTs on SQLite, with a binary COPY on PostgreSQL. Through the change tracker every event cost an entity, its snapshot and a generated command,
/// which held ingest to a fraction of what SQLite writes (bench/Server.Bench); the rows are never read back
/// through this context, so nothing needs tracking.
/// </summary>
internal static class LogEventWriter
{
    /// <summary>Rows per INSERT statement: each execution of a statement has a fixed cost in Microsoft.Data.Sqlite
    /// (a data reader, parameter look-ups by name, a reset), which 32 rows share.</summary>
    private const int RowsPerStatement = 32;

    /// <summary>Inserts <paramref name="logs"/> in the transaction <paramref name="db"/> has open, so they commit
    /// (or roll back) together with whatever else that transaction saves.</summary>
    public static async Task AppendAsync(ServerDbContext db, Guid jobId, IReadOnlyList<LogEvent> logs, CancellationToken cancellationToken)
    {
        if (logs.Count == 0)
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Log events are appended inside the transaction that also moves the pull position.");
        if (transaction is NpgsqlTransaction postgres)
        {
            await PostgresLogEventWriter.AppendAsync(postgres, jobId, logs, cancellationToken);
            return;
        }

        Append((SqliteTransaction)transaction, jobId, logs);
    }

    /// <summary>Inserts the log events of several jobs (a runner's stream answer) in the transaction <paramref name="db"/>
    /// has open: on PostgreSQL with one COPY for all of them.</summary>
    public static async Task AppendAsync(ServerDbContext db, IReadOnlyList<(Guid JobId, IReadOnlyList<LogEvent> Logs)> batches, CancellationToken cancellationToken)
    {
        if (batches.All(b => b.Logs.Count == 0))
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Log events are appended inside the transaction that also moves the stream's cursor.");
        if (transaction is NpgsqlTransaction postgres)
        {
            await PostgresLogEventWriter.AppendAsync(postgres, batches, cancellationToken);
            return;
        }

        foreach (var (jobId, logs) in batches)
        {
            if (logs.Count > 0)
            {
                Append((SqliteTransaction)transaction, jobId, logs);
            }
        }
    }

    private static void Append(SqliteTransaction transaction, Guid jobId, IReadOnlyList<LogEvent> logs)
    {
        var index = 0;
        if (logs.Count >= RowsPerStatement)
        {
            using var many = Prepare(transaction, jobId, RowsPerStatement, out var timestamps, out var messages, out var sources, out var styles);
            for (; index + RowsPerStatement <= logs.Count; index += RowsPerStatement)
            {
                for (var row = 0; row < RowsPerStatement; row++)
                {
                    timestamps[row].Value = logs[index + row].Timestamp;
                    messages[row].Value = logs[index + row].Message;
                    sources[row].Value = SourceName(logs[index + row].LogSource);
                    styles[row].Value = (object?)StylesColumn(logs[index + row]) ?? DBNull.Value;
                }

                // Synchronous on purpose: Microsoft.Data.Sqlite has no asynchronous I/O, its async calls run the
                // same code and only add a task per statement.
                many.ExecuteNonQuery();
            }
        }

        if (index < logs.Count)
        {
            using var one = Prepare(transaction, jobId, 1, out var timestamp, out var message, out var source, out var style);
            for (; index < logs.Count; index++)
            {
                timestamp[0].Value = logs[index].Timestamp;
                message[0].Value = logs[index].Message;
                source[0].Value = SourceName(logs[index].LogSource);
                style[0].Value = (object?)StylesColumn(logs[index]) ?? DBNull.Value;
                one.ExecuteNonQuery();
            }
        }
    }

    /// <summary>The column's text, as EF's string conversion of the enum writes it (<c>Stdout</c>, <c>Runner</c>).</summary>
    internal static string SourceName(LogSource source) => source == LogSource.Runner ? nameof(LogSource.Runner) : nameof(LogSource.Stdout);

    /// <summary>
    /// The <c>styles</c> column of an event: its style runs as JSON, or null for plain text. Runs that are not well
    /// formed for the message (out of order, outside it, an SGR text that is not digits and <c>;</c>, a link with a
    /// refused scheme) are not stored: the text is, plain.
    /// </summary>
    internal static string? StylesColumn(LogEvent log) =>
        log.Styles is { } styles && StyledText.IsValid(styles, log.Message.Length) ? JsonSerializer.Serialize(styles, LogQuotaJson.Options) : null;

    private static SqliteCommand Prepare(
        SqliteTransaction transaction, Guid jobId, int rows, out SqliteParameter[] timestamps, out SqliteParameter[] messages,
        out SqliteParameter[] sources, out SqliteParameter[] styles)
    {
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;

        // A Guid bound as TEXT is written upper-case, exactly as EF writes jobs.id, so the foreign key and every
        // EF query on job_id match these rows.
        command.Parameters.Add("$job_id", SqliteType.Text).Value = jobId;
        timestamps = new SqliteParameter[rows];
        messages = new SqliteParameter[rows];
        sources = new SqliteParameter[rows];
        styles = new SqliteParameter[rows];
        var sql = new StringBuilder("INSERT INTO log_events (job_id, timestamp, message, log_source, styles) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"($job_id, $t{row}, $m{row}, $s{row}, $y{row})");
            styles[row] = command.Parameters.Add($"$y{row}", SqliteType.Text);
            timestamps[row] = command.Parameters.Add($"$t{row}", SqliteType.Integer);
            messages[row] = command.Parameters.Add($"$m{row}", SqliteType.Blob);
            sources[row] = command.Parameters.Add($"$s{row}", SqliteType.Text);
        }

        command.CommandText = sql.Append(';').ToString();
        command.Prepare();
        return command;
    }
}
