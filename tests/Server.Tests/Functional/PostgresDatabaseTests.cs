using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Data.Postgres;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Functional;

/// <summary>The PostgreSQL half of <see cref="DatabaseTests"/>: its own migrations build the model, messages are bytea.</summary>
public sealed class PostgresDatabaseTests : IDisposable
{
    private readonly TestDatabase _database = TestDatabase.Create(DatabaseProvider.Postgres);

    public void Dispose() => _database.Dispose();

    [SkippableFact]
    public async Task Migrations_MatchTheModel_AreAllApplied_AndStoreMessagesAsBytea()
    {
        await using var server = new ServerFactory(database: _database);

        var (context, pendingChanges, pendingMigrations, messageType) = await server.QueryAsync(async db => (
            db.GetType(),
            db.Database.HasPendingModelChanges(),
            (await db.Database.GetPendingMigrationsAsync()).ToList(),
            await db.Database.SqlQueryRaw<string>(
                "SELECT data_type AS \"Value\" FROM information_schema.columns WHERE table_name = 'log_events' AND column_name = 'message'").SingleAsync()));

        Assert.Equal(typeof(PostgresServerDbContext), context);
        Assert.False(pendingChanges);
        Assert.Empty(pendingMigrations);
        Assert.Equal("bytea", messageType);
    }

    /// <summary>Bytes that are not UTF-8, NULs included, come back from PostgreSQL exactly as the job wrote them.</summary>
    [SkippableFact]
    public async Task ArbitraryBytes_RoundTripThroughTheLogs()
    {
        await using var runner = await FakeRunner.StartAsync();
        byte[] message = [0x00, 0xff, 0xfe, (byte)'\\', (byte)'x', 0x0a, 0xc3, 0x28];
        runner.AddState(JobState.Running);
        runner.AddLog(message);
        runner.AddState(JobState.Done, exitStatus: 0);
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token },
            database: _database);
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "bytes"));
        await client.WaitForEndAsync("bytes");

        Assert.Equal(message, await client.GetLogsTextAsync("bytes"));
        Assert.Equal(message, await server.QueryAsync(db => db.LogEvents.Select(e => e.Message).SingleAsync()));
    }

    /// <summary>Style runs go through the COPY into their own column and come back in the pages and as ANSI.</summary>
    [SkippableFact]
    public async Task StyleRuns_RoundTripThroughTheLogs()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLog("plain\n"u8.ToArray());
        runner.AddLog("ok red\n"u8.ToArray(), new LogStyles([new LogStyle("31", "https://example.com")], [3, 3, 0]));
        runner.AddState(JobState.Done, exitStatus: 0);
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token },
            database: _database);
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "styles"));
        await client.WaitForEndAsync("styles");

        var logs = (await client.GetLogsAsync("styles")).Logs;
        Assert.Null(logs[0].Styles);
        Assert.Equal([3, 3, 0], logs[1].Styles!.Runs);
        Assert.Equal(new LogStyle("31", "https://example.com"), logs[1].Styles!.Styles[0]);
        using var ansi = await client.GetAsync(new Uri("/api/runs/styles/logs?format=ansi", UriKind.Relative));
        Assert.Equal("plain\nok \e]8;;https://example.com\e\\\e[31mred\e[0m\e]8;;\e\\\n", await ansi.Content.ReadAsStringAsync());
    }

    /// <summary>A real job's section marks go through PostgreSQL and come back as the same folds as on SQLite.</summary>
    [SkippableFact]
    public async Task SectionMarks_RoundTripIntoFolds()
    {
        await using var server = new ServerFactory(database: _database);
        using var client = server.CreateAdminClient();

        var run = await client.SubmitAsync(new SubmitRunRequest([Logs.LogSectionsTests.Script]));
        Assert.Equal(RunStatus.Failed, (await client.WaitForEndAsync(run.RunName)).Status);

        Assert.Equal(Logs.LogSectionsTests.Text, System.Text.Encoding.UTF8.GetString(await client.GetLogsTextAsync(run.RunName)));
        await Logs.LogSectionsTests.AssertFoldsAsync(client, run.RunName);
    }
}
