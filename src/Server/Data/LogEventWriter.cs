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

        Append((SqliteTransaction)transaction, [.. batches.SelectMany(b => Rows(b.JobId, b.Logs))]);
    }

    private static void Append(SqliteTransaction transaction, Guid jobId, IReadOnlyList<LogEvent> logs) => Append(transaction, [.. Rows(jobId, logs)]);

    /// <summary>The rows of one job's events, its id written once as the text SQLite stores (<see cref="IdText"/>).</summary>
    private static IEnumerable<(string JobId, LogEvent Log)> Rows(Guid jobId, IReadOnlyList<LogEvent> logs)
    {
        var id = IdText(jobId);
        return logs.Select(log => (id, log));
    }

    /// <summary>A Guid as SQLite stores it: upper-case text, exactly as EF and Microsoft.Data.Sqlite write one (jobs.id), so
    /// a row written with it matches every EF query and foreign key on it.</summary>
    internal static string IdText(Guid id) => id.ToString().ToUpperInvariant();

    /// <summary>Inserts <paramref name="rows"/>, of one job or of several (a stream answer carries a line or two of each of
    /// many jobs), 32 to a statement: one prepared statement for all of them, not one per job.</summary>
    private static void Append(SqliteTransaction transaction, IReadOnlyList<(string JobId, LogEvent Log)> rows)
    {
        var index = 0;
        if (rows.Count >= RowsPerStatement)
        {
            using var many = Prepare(transaction, RowsPerStatement, out var columns);
            for (; index + RowsPerStatement <= rows.Count; index += RowsPerStatement)
            {
                for (var row = 0; row < RowsPerStatement; row++)
                {
                    columns[row].Set(rows[index + row]);
                }

                // Synchronous on purpose: Microsoft.Data.Sqlite has no asynchronous I/O, its async calls run the
                // same code and only add a task per statement.
                many.ExecuteNonQuery();
            }
        }

        if (index < rows.Count)
        {
            using var one = Prepare(transaction, 1, out var column);
            for (; index < rows.Count; index++)
            {
                column[0].Set(rows[index]);
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

    private static SqliteCommand Prepare(SqliteTransaction transaction, int rows, out RowParameters[] columns)
    {
        var command = transaction.Connection!.CreateCommand();
        command.Transaction = transaction;
        columns = new RowParameters[rows];
        var sql = new StringBuilder("INSERT INTO log_events (job_id, timestamp, message, log_source, styles) VALUES ");
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"($j{row}, $t{row}, $m{row}, $s{row}, $y{row})");
            columns[row] = new RowParameters(
                command.Parameters.Add($"$j{row}", SqliteType.Text),
                command.Parameters.Add($"$t{row}", SqliteType.Integer),
                command.Parameters.Add($"$m{row}", SqliteType.Blob),
                command.Parameters.Add($"$s{row}", SqliteType.Text),
                command.Parameters.Add($"$y{row}", SqliteType.Text));
        }

        command.CommandText = sql.Append(';').ToString();
        command.Prepare();
        return command;
    }

    /// <summary>One row's parameters in a prepared INSERT.</summary>
    private readonly record struct RowParameters(
        SqliteParameter JobId, SqliteParameter Timestamp, SqliteParameter Message, SqliteParameter Source, SqliteParameter Styles)
    {
        public void Set((string JobId, LogEvent Log) row)
        {
            JobId.Value = row.JobId;
            Timestamp.Value = row.Log.Timestamp;
            Message.Value = row.Log.Message;
            Source.Value = SourceName(row.Log.LogSource);
            Styles.Value = (object?)StylesColumn(row.Log) ?? DBNull.Value;
        }
    }
}
