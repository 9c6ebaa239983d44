using System.Diagnostics;
using Microsoft.Data.Sqlite;

namespace LogQuota.Server.Bench;

/// <summary>The baselines: what SQLite itself does with the same rows, with nothing of the server in between.</summary>
internal static class RawSqlite
{
    /// <summary>The per-connection pragmas the server sets (src/Server/Data/SqlitePragmas.cs); WAL is set on the file.</summary>
    private const string Pragmas = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";

    /// <summary>
    /// Inserts <paramref name="script"/>'s events into a fresh database with the server's own schema (copied from
    /// <paramref name="serverDb"/>, with its projects, runs and jobs rows, so the foreign keys hold): one prepared INSERT,
    /// one transaction per pull answer, as the server commits. The <paramref name="before"/> runs' events go in
    /// first, untimed, so the file and its WAL are as full as the server's were when it stored the same rows (a
    /// WAL checkpoint falls due after 64 MB, whoever writes).
    /// </summary>
    public static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> InsertAsync(
        string serverDb, string baselineDb, IEnumerable<(string RunName, LogScript Script)> before, string runName, LogScript script)
    {
        await using (var setup = await OpenAsync(baselineDb))
        {
            await ExecuteAsync(setup, $"ATTACH DATABASE '{serverDb.Replace("'", "''", StringComparison.Ordinal)}' AS src;");

            // The server's page size, set before anything is written (WAL and the first table fix it).
            await using (var pageSize = setup.CreateCommand())
            {
                pageSize.CommandText = "PRAGMA src.page_size;";
                await ExecuteAsync(setup, $"PRAGMA main.page_size = {(long)(await pageSize.ExecuteScalarAsync())!};");
            }

            await ExecuteAsync(setup, "PRAGMA journal_mode = WAL;");
            var schema = new List<string>();
            await using (var read = setup.CreateCommand())
            {
                read.CommandText = "SELECT sql FROM src.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC;";
                await using var reader = await read.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    schema.Add(reader.GetString(0));
                }
            }

            foreach (var statement in schema)
            {
                await ExecuteAsync(setup, statement);
            }

            await ExecuteAsync(setup, "INSERT INTO main.projects SELECT * FROM src.projects; INSERT INTO main.runs SELECT * FROM src.runs; INSERT INTO main.jobs SELECT * FROM src.jobs; DETACH DATABASE src;");
        }

        await using var connection = await OpenAsync(baselineDb);
        foreach (var (beforeRun, beforeScript) in before)
        {
            await InsertRowsAsync(connection, await JobIdAsync(connection, beforeRun), beforeScript);
        }

        var jobId = await JobIdAsync(connection, runName);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        await InsertRowsAsync(connection, jobId, script);
        return (stopwatch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private static async Task InsertRowsAsync(SqliteConnection connection, string jobId, LogScript script)
    {
        await using var insert = connection.CreateCommand();
        insert.CommandText = "INSERT INTO log_events (job_id, timestamp, message) VALUES ($job, $timestamp, $message);";
        var job = insert.Parameters.Add("$job", SqliteType.Text);
        var timestamp = insert.Parameters.Add("$timestamp", SqliteType.Integer);
        var message = insert.Parameters.Add("$message", SqliteType.Blob);
        job.Value = jobId;
        var index = 0;
        foreach (var count in script.PageEvents)
        {
            await using var transaction = connection.BeginTransaction();
            insert.Transaction = transaction;
            insert.Prepare();
            for (var end = index + count; index < end; index++)
            {
                timestamp.Value = script.Events[index].Timestamp;
                message.Value = script.Events[index].Message;
                insert.ExecuteNonQuery();
            }

            await transaction.CommitAsync();
        }
    }

    /// <summary>Reads the job's messages in the order the text endpoint serves them and writes them to <see cref="Stream.Null"/>.</summary>
    public static async Task<(TimeSpan Elapsed, long Bytes)> ReadAsync(string serverDb, string runName)
    {
        await using var connection = await OpenAsync(serverDb);
        var jobId = await JobIdAsync(connection, runName);
        var stopwatch = Stopwatch.StartNew();
        await using var select = connection.CreateCommand();
        select.CommandText = "SELECT message FROM log_events WHERE job_id = $job ORDER BY timestamp, id;";
        select.Parameters.AddWithValue("$job", jobId);
        await using var reader = await select.ExecuteReaderAsync();
        var buffer = new byte[64 * 1024];
        long bytes = 0;
        while (await reader.ReadAsync())
        {
            var length = (int)reader.GetBytes(0, 0, null, 0, 0);
            if (length > buffer.Length)
            {
                buffer = new byte[length];
            }

            reader.GetBytes(0, 0, buffer, 0, length);
            await Stream.Null.WriteAsync(buffer.AsMemory(0, length));
            bytes += length;
        }

        return (stopwatch.Elapsed, bytes);
    }

    /// <summary>Rows and bytes stored for the run's job: what the server committed.</summary>
    public static async Task<(long Rows, long Bytes)> CountAsync(string serverDb, string runName)
    {
        await using var connection = await OpenAsync(serverDb);
        var jobId = await JobIdAsync(connection, runName);
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*), coalesce(sum(length(message)), 0) FROM log_events WHERE job_id = $job;";
        count.Parameters.AddWithValue("$job", jobId);
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<SqliteConnection> OpenAsync(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, ForeignKeys = true }.ToString());
        await connection.OpenAsync();
        await ExecuteAsync(connection, Pragmas);
        return connection;
    }

    private static async Task<string> JobIdAsync(SqliteConnection connection, string runName)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.run_name = $name;";
        command.Parameters.AddWithValue("$name", runName);
        return (string?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException($"No job for run {runName}.");
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
