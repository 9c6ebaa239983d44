using System.Text;
using System.Text.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Processing;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Processing;

/// <summary>
/// SPEC §2/§4: the runner's live region reaches the logs endpoint as <c>live</c>, replaced with every pull, gone once
/// the job has ended, committed with the page it came with, and never stored or counted as log text.
/// </summary>
public abstract class LiveColumnTests(DatabaseProvider provider) : IDisposable
{
    /// <summary>This test's own database, on the provider of the derived class.</summary>
    protected TestDatabase Database { get; } = TestDatabase.Create(provider);

    public void Dispose()
    {
        Database.Dispose();
        GC.SuppressFinalize(this);
    }

    private const string FirstLive = "epoch 1/3  33%|###       |\nbatch 10/100  10%|#         |";
    private const string SecondLive = "epoch 1/3  33%|###       |\nbatch 90/100  90%|######### |";

    [SkippableFact]
    public async Task Live_IsReturnedByTheLogsEndpoint_ReplacedByTheNextPull_AndNullOnceTheJobEnds()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLogs(3, "line");
        runner.Live = FirstLive;
        await using var server = Frozen(runner, out var processor);
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "bars"));

        await processor.ProcessOnceAsync(CancellationToken.None);

        Assert.Equal(FirstLive, await LiveAsync(client, "bars"));

        // A redraw alone (no new stored line) is stored too: the live region is replaced, not only sent with logs.
        runner.Live = SecondLive;
        await processor.ProcessOnceAsync(CancellationToken.None);
        Assert.Equal(SecondLive, await LiveAsync(client, "bars"));
        Assert.Equal(3, (await client.GetLogsAsync("bars")).Logs.Count);

        // The runner still answers a live region with its final state: the server shows none for an ended job.
        runner.AddLogs(1, "last");
        runner.AddState(JobState.Done, exitStatus: 0);
        await processor.ProcessOnceAsync(CancellationToken.None);

        Assert.Equal(RunStatus.Done, (await client.GetRunAsync("bars")).Status);
        Assert.Null(await LiveAsync(client, "bars"));
        Assert.Null(await server.QueryAsync(db => db.Jobs.Select(j => j.Live).SingleAsync()));
    }

    [SkippableFact]
    public async Task Live_IsNeverStoredAsLogText_NorCountedInLogBytesHour()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLogs(2, "line");
        runner.Live = FirstLive;
        await using var server = Frozen(runner, out var processor);
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "counted"));

        await processor.ProcessOnceAsync(CancellationToken.None);
        runner.Live = SecondLive;
        await processor.ProcessOnceAsync(CancellationToken.None);

        const string Stored = "line-1\nline-2\n";
        Assert.Equal(SecondLive, await LiveAsync(client, "counted"));
        Assert.Equal(Stored, Encoding.UTF8.GetString(await client.GetLogsTextAsync("counted")));
        var page = await client.GetLogsAsync("counted");
        Assert.Equal(Stored, string.Concat(page.Logs.Select(e => Encoding.UTF8.GetString(e.Message))));
        Assert.Equal(Encoding.UTF8.GetByteCount(Stored), (await client.GetRunAsync("counted")).LogBytesHour);
        var events = await server.QueryAsync(db => db.LogEvents.Select(e => e.Message).ToListAsync());
        Assert.DoesNotContain(events, m => Encoding.UTF8.GetString(m).Contains("batch", StringComparison.Ordinal));
    }

    /// <summary>The live region commits with its page: a failed commit keeps the previous one, and the retry stores the new one.</summary>
    [SkippableFact]
    public async Task AFailedCommit_KeepsThePreviousLive_AndTheRetryStoresTheNewOne()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLogs(2, "before");
        runner.Live = FirstLive;
        await using var server = Frozen(runner, out var processor);
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "atomic-live"));
        await processor.ProcessOnceAsync(CancellationToken.None);
        Assert.Equal(FirstLive, await LiveAsync(client, "atomic-live"));

        await server.QueryAsync(db => db.Database.ExecuteSqlRawAsync(Database.Provider == DatabaseProvider.Sqlite
            ? "CREATE TRIGGER fail_logs BEFORE INSERT ON log_events BEGIN SELECT RAISE(ABORT, 'injected'); END;"
            : "CREATE FUNCTION fail_injected() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$; " +
              "CREATE TRIGGER fail_logs BEFORE INSERT ON log_events FOR EACH ROW EXECUTE FUNCTION fail_injected();"));
        runner.AddLogs(2, "after");
        runner.Live = SecondLive;
        await processor.ProcessOnceAsync(CancellationToken.None);

        Assert.Equal(FirstLive, await LiveAsync(client, "atomic-live"));
        Assert.Equal(2, (await server.CountRowsAsync()).Logs);

        await server.QueryAsync(db => db.Database.ExecuteSqlRawAsync(
            Database.Provider == DatabaseProvider.Sqlite ? "DROP TRIGGER fail_logs;" : "DROP TRIGGER fail_logs ON log_events;"));
        await processor.ProcessOnceAsync(CancellationToken.None);

        Assert.Equal(SecondLive, await LiveAsync(client, "atomic-live"));
        Assert.Equal(
            "before-1\nbefore-2\nafter-1\nafter-2\n",
            Encoding.UTF8.GetString(await client.GetLogsTextAsync("atomic-live")));
    }

    [SkippableFact]
    public async Task OpenApi_DescribesTheLogsPage_LiveIncluded_AndItsTextForm()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" }, database: Database);
        using var client = server.CreateAdminClient();

        using var document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));

        var ok = document.RootElement.GetProperty("paths").GetProperty("/api/projects/{project}/runs/{run_name}/logs").GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.Equal(["application/json", "text/plain"], ok.GetProperty("content").EnumerateObject().Select(c => c.Name));
        var properties = document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("LogsResponse").GetProperty("properties");
        Assert.Equal(["logs", "next_token", "live"], properties.EnumerateObject().Select(p => p.Name));
        Assert.Equal("byte", properties.GetProperty("live").GetProperty("format").GetString());
    }

    /// <summary>
    /// A server whose processor runs only when the test says so (no processing loop, a fake clock), pulling from <paramref name="runner"/>.
    /// </summary>
    private ServerFactory Frozen(FakeRunner runner, out JobProcessor processor)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var server = new ServerFactory(
            new Dictionary<string, string>
            {
                ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl,
                ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token,
            },
            configureServices: services => services.AddSingleton<TimeProvider>(time), database: Database, passesByTest: true);
        processor = server.Services.GetRequiredService<JobProcessor>();
        return server;
    }

    /// <summary>The <c>live</c> field as it is on the wire (base64 text or null), decoded.</summary>
    private static async Task<string?> LiveAsync(HttpClient client, string runName)
    {
        using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/runs/{runName}/logs", UriKind.Relative)));
        var live = json.RootElement.GetProperty("live");
        return live.ValueKind == JsonValueKind.Null ? null : Encoding.UTF8.GetString(Convert.FromBase64String(live.GetString()!));
    }
}

/// <summary>The live region on SQLite.</summary>
public sealed class LiveColumnSqliteTests() : LiveColumnTests(DatabaseProvider.Sqlite);

/// <summary>The live region on PostgreSQL (skipped without <c>LOGQUOTA_TEST_POSTGRES</c>).</summary>
public sealed class LiveColumnPostgresTests() : LiveColumnTests(DatabaseProvider.Postgres);
