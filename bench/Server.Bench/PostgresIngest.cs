using System.Diagnostics;
using System.Runtime.InteropServices;
using Npgsql;
using NpgsqlTypes;

namespace LogQuota.Server.Bench;

/// <summary>
/// Issue 17's ingest figure on PostgreSQL: log events pulled from a fake runner and committed by the server, next to a
/// bare binary COPY of the same rows into the same table, one transaction per pull answer, in the same run and on the
/// same cluster (<c>LOGQUOTA_TEST_POSTGRES</c>; bench/run starts one with .ci/postgres.sh).
/// </summary>
internal static class PostgresIngest
{
    private const double MB = 1_000_000;
    private const string WarmRun = "pg-warm-up";
    private const string BaselineRun = "pg-baseline";
    private const string IngestRun = "pg-ingest";

    public static async Task<int> RunAsync(bool quick, string? jsonPath)
    {
        var cluster = Environment.GetEnvironmentVariable("LOGQUOTA_TEST_POSTGRES");
        if (string.IsNullOrWhiteSpace(cluster))
        {
            await Console.Error.WriteLineAsync("LOGQUOTA_TEST_POSTGRES is not set: run this through .ci/postgres.sh -- … (bench/run does)");
            return 2;
        }

        var ingestBytes = (long)((quick ? 50 : 200) * MB);
        var dir = Directory.CreateTempSubdirectory("logquota-pg-bench-").FullName;
        var name = $"lq_bench_{Guid.NewGuid():N}";
        var databaseUrl = new UriBuilder(cluster) { Path = "/" + name }.Uri.ToString().TrimEnd('/');
        using var cancel = new CancellationTokenSource();
        void Interrupt(PosixSignalContext context)
        {
            context.Cancel = true;
            cancel.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);
        await ExecuteAsync(cluster, $"CREATE DATABASE {name}");
        try
        {
            var warm = LogScript.Create((long)(20 * MB), seed: 1);
            var ingest = LogScript.Create(ingestBytes, seed: 2);
            Console.WriteLine($"postgres ingest bench ({(quick ? "quick" : "full")}): {ingest.LogBytes / MB:0} MB in {ingest.Events.Count} events, "
                + $"{ingest.PageEvents.Count} pull answers; database {name}");
            await using var runner = await FakeRunner.StartAsync();
            runner.Script(WarmRun, warm);
            runner.Script(BaselineRun, LogScript.Create(10_000, seed: 3));
            runner.Script(IngestRun, ingest);

            using var server = await ServerProcess.StartAsync(dir, runner.BaseUrl, cancel.Token, new Dictionary<string, string> { ["DSTACK_DATABASE_URL"] = databaseUrl });
            using var client = server.CreateClient();

            // The warm-up run brings the server's code and the table's first pages in; the baseline's job gives the bare
            // COPY a job row of its own. The baseline goes before the server's ingest, so the server writes into the
            // larger table of the two.
            await SubmitAsync(client, WarmRun, cancel.Token);
            await runner.WaitForReleaseAsync(WarmRun, TimeSpan.FromMinutes(5), cancel.Token);
            await SubmitAsync(client, BaselineRun, cancel.Token);
            await runner.WaitForReleaseAsync(BaselineRun, TimeSpan.FromMinutes(5), cancel.Token);
            var (copyTime, copyCpu) = await CopyAsync(databaseUrl, await JobIdAsync(databaseUrl, BaselineRun), ingest, cancel.Token);
            var copyRate = ingest.LogBytes / MB / copyTime.TotalSeconds;

            var cpuBefore = server.CpuTime();
            await SubmitAsync(client, IngestRun, cancel.Token);
            var trace = await runner.WaitForReleaseAsync(IngestRun, TimeSpan.FromMinutes(10), cancel.Token);
            var serverCpu = server.CpuTime() - cpuBefore;
            var ingestRate = ingest.LogBytes / MB / trace.Elapsed.TotalSeconds;

            var (rows, bytes) = await CountAsync(databaseUrl, await JobIdAsync(databaseUrl, IngestRun));
            if (rows != ingest.Events.Count || bytes != ingest.LogBytes)
            {
                throw new InvalidOperationException($"The server stored {rows} events, {bytes} bytes; the runner had {ingest.Events.Count}, {ingest.LogBytes}.");
            }

            var ratio = ingestRate / copyRate;
            Console.WriteLine($"ingest: {ingestRate:0.0} MB/s, server CPU {serverCpu.TotalMilliseconds / (ingest.LogBytes / MB):0.00} ms per MB; "
                + $"bare COPY: {copyRate:0.0} MB/s, CPU {copyCpu.TotalMilliseconds / (ingest.LogBytes / MB):0.00} ms per MB; ratio {ratio:0.00}");
            List<Figure> figures =
            [
                new(
                    "server_ingest_postgres",
                    $"server: log events pulled and committed to PostgreSQL, {ingest.LogBytes / MB:0} MB",
                    Math.Round(ingestRate, 1),
                    "MB/s",
                    "bare binary COPY of the same rows into the same table, a transaction per pull answer",
                    Math.Round(copyRate, 1),
                    Math.Round(ratio, 2),
                    ">= 0.5 x baseline",
                    ratio >= 0.5,
                    $"{ingest.Events.Count} events of 100 B-4 KiB in {ingest.PageEvents.Count} pull answers of <= 4 MiB from a fake runner on loopback; "
                        + "first pull to the job's release; PostgreSQL on loopback (.ci/postgres.sh: fsync off); "
                        + $"CPU per MB: server {serverCpu.TotalMilliseconds / (ingest.LogBytes / MB):0.00} ms, COPY client {copyCpu.TotalMilliseconds / (ingest.LogBytes / MB):0.00} ms"),
            ];
            Figure.Print(figures);
            if (jsonPath is not null)
            {
                await Figure.WriteAsync(jsonPath, figures);
                Console.WriteLine($"wrote {Path.GetFullPath(jsonPath)}");
            }

            return 0;
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("postgres bench interrupted; the server is stopped and the database dropped");
            return 130;
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(cluster, $"DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The same rows as the server stores them, with nothing of the server in between.</summary>
    private static async Task<(TimeSpan Elapsed, TimeSpan Cpu)> CopyAsync(string url, Guid jobId, LogScript script, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(url, cancellationToken);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var stopwatch = Stopwatch.StartNew();
        var index = 0;
        foreach (var count in script.PageEvents)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var writer = await connection.BeginBinaryImportAsync(
                "COPY log_events (job_id, timestamp, message, log_source) FROM STDIN (FORMAT BINARY)", cancellationToken))
            {
                for (var end = index + count; index < end; index++)
                {
                    await writer.StartRowAsync(cancellationToken);
                    await writer.WriteAsync(jobId, NpgsqlDbType.Uuid, cancellationToken);
                    await writer.WriteAsync(script.Events[index].Timestamp, NpgsqlDbType.Bigint, cancellationToken);
                    await writer.WriteAsync(script.Events[index].Message, NpgsqlDbType.Bytea, cancellationToken);
                    await writer.WriteAsync("Stdout", NpgsqlDbType.Varchar, cancellationToken);
                }

                await writer.CompleteAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return (stopwatch.Elapsed, Process.GetCurrentProcess().TotalProcessorTime - cpu);
    }

    private static async Task<(long Rows, long Bytes)> CountAsync(string url, Guid jobId)
    {
        await using var connection = await OpenAsync(url, CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT count(*), coalesce(sum(length(message)), 0)::bigint FROM log_events WHERE job_id = @job", connection);
        command.Parameters.AddWithValue("job", jobId);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<Guid> JobIdAsync(string url, string runName)
    {
        await using var connection = await OpenAsync(url, CancellationToken.None);
        await using var command = new NpgsqlCommand("SELECT j.id FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.run_name = @name", connection);
        command.Parameters.AddWithValue("name", runName);
        return (Guid?)await command.ExecuteScalarAsync() ?? throw new InvalidOperationException($"No job for run {runName}.");
    }

    private static async Task ExecuteAsync(string url, string sql)
    {
        await using var connection = await OpenAsync(url, CancellationToken.None);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<NpgsqlConnection> OpenAsync(string url, CancellationToken cancellationToken)
    {
        var uri = new Uri(url);
        var user = uri.UserInfo.Split(':', 2);
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.Port > 0 ? uri.Port : 5432,
            Username = Uri.UnescapeDataString(user[0]),
            Password = user.Length > 1 ? Uri.UnescapeDataString(user[1]) : null,
            Database = uri.AbsolutePath.TrimStart('/'),
            Pooling = false,
        }.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    private static async Task SubmitAsync(HttpClient client, string runName, CancellationToken cancellationToken)
    {
        using var body = new StringContent($$"""{"run_name": "{{runName}}", "commands": ["generate-logs"]}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("api/runs", UriKind.Relative), body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Submitting {runName}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
