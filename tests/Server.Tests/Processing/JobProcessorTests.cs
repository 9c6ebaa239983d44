using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;
using Refit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Processing;

public abstract class JobProcessorTests(DatabaseProvider provider) : IDisposable
{
    /// <summary>This test's own database, on the provider of the derived class.</summary>
    protected TestDatabase Database { get; } = TestDatabase.Create(provider);

    public void Dispose()
    {
        Database.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public async Task PullsEveryPage_StoresEachEventOnce_AndReleasesTheJob()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLogs(25, "line");
        runner.AddState(JobState.Done, exitStatus: 0);
        await using var server = WithRunner(runner);
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "paged"));
        var run = await client.WaitForEndAsync("paged");

        Assert.Equal("exited (0)", run.StatusMessage);
        var text = System.Text.Encoding.UTF8.GetString(await client.GetLogsTextAsync("paged"));
        Assert.Equal(string.Concat(Enumerable.Range(1, 25).Select(i => $"line-{i}\n")), text);
        await WaitUntilAsync(() => runner.Calls.Any(c => c.StartsWith("DELETE", StringComparison.Ordinal)));
    }

    /// <summary>A runner answers 409 to a DELETE while it still holds the ended job (its final state is recorded a moment
    /// before its supervisor lets go). The server must ask again, not take the refusal as a release: the runner would
    /// keep the job and its spool for as long as it runs.</summary>
    [SkippableFact]
    public async Task ADeleteAnsweredConflict_IsAskedAgain_AndTheJobIsReleasedOnlyOnceTheRunnerForgetsIt()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.ConflictDeletes = 2;
        runner.AddState(JobState.Running);
        runner.AddLogs(3, "line");
        runner.AddState(JobState.Done, exitStatus: 0);
        await using var server = WithRunner(runner);
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "held"));
        await client.WaitForEndAsync("held");

        await WaitUntilAsync(() => runner.Calls.Count(c => c.StartsWith("DELETE", StringComparison.Ordinal)) == 3);
        await WaitUntilAsync(() => server.QueryAsync(db => db.Jobs.AllAsync(j => j.RunnerReleased)));
        var run = await client.GetRunAsync("held");
        Assert.Equal("exited (0)", run.StatusMessage);
        Assert.Equal(3, runner.Calls.Count(c => c.StartsWith("DELETE", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public async Task AfterARestart_PullingResumesWhereItStopped()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLogs(10, "before");
        using var dir = new TempDirectory();

        await using (var first = WithRunner(runner, dir.Path))
        {
            using var client = first.CreateAdminClient();
            await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "resumed"));
            await WaitUntilAsync(async () => (await client.GetLogsAsync("resumed")).Logs.Count == 10);
        }

        var stored = runner.PulledFrom.Max();
        var pullsBefore = runner.PulledFrom.Count;
        runner.AddLogs(10, "after");
        runner.AddState(JobState.Done, exitStatus: 0);

        await using var second = WithRunner(runner, dir.Path);
        using var client2 = second.CreateAdminClient();
        await client2.WaitForEndAsync("resumed");

        var text = System.Text.Encoding.UTF8.GetString(await client2.GetLogsTextAsync("resumed"));
        var expected = string.Concat(Enumerable.Range(1, 10).Select(i => $"before-{i}\n"))
            + string.Concat(Enumerable.Range(1, 10).Select(i => $"after-{i}\n"));
        Assert.Equal(expected, text);
        // The second server asked from the stored position on, never from the start again.
        Assert.All(runner.PulledFrom.Skip(pullsBefore), t => Assert.True(t >= stored));
    }

    /// <summary>SPEC §6: a pull's events and the pull position commit together. A trigger makes one half of the
    /// commit fail; the other half must not be stored either, and the next pass stores every event exactly once.</summary>
    [SkippableTheory]
    [InlineData("position")]
    [InlineData("logs")]
    public async Task AFailedCommit_StoresNeitherTheLogsNorThePullPosition_AndTheRetryStoresEachEventOnce(string half)
    {
        var failure = (Database.Provider, half) switch
        {
            (DatabaseProvider.Sqlite, "position") =>
                "CREATE TRIGGER fail_position BEFORE UPDATE OF runner_timestamp ON jobs BEGIN SELECT RAISE(ABORT, 'injected'); END;",
            (DatabaseProvider.Sqlite, _) =>
                "CREATE TRIGGER fail_logs BEFORE INSERT ON log_events WHEN (SELECT count(*) FROM log_events) >= 2 BEGIN SELECT RAISE(ABORT, 'injected'); END;",
            (_, "position") =>
                "CREATE FUNCTION fail_injected() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$; " +
                "CREATE TRIGGER fail_position BEFORE UPDATE OF runner_timestamp ON jobs FOR EACH ROW EXECUTE FUNCTION fail_injected();",
            _ =>
                "CREATE FUNCTION fail_injected() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN " +
                "IF (SELECT count(*) FROM log_events) >= 2 THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $$; " +
                "CREATE TRIGGER fail_logs BEFORE INSERT ON log_events FOR EACH ROW EXECUTE FUNCTION fail_injected();",
        };
        var repair = Database.Provider == DatabaseProvider.Sqlite
            ? "DROP TRIGGER IF EXISTS fail_position; DROP TRIGGER IF EXISTS fail_logs;"
            : "DROP TRIGGER IF EXISTS fail_position ON jobs; DROP TRIGGER IF EXISTS fail_logs ON log_events;";
        await using var runner = await FakeRunner.StartAsync();

        // Pages of 50 events: the first is stored in statements of many rows and then one row at a time.
        runner.PageSize = 50;
        runner.AddState(JobState.Running);
        runner.AddLogs(70, "line");
        runner.AddState(JobState.Done, exitStatus: 0);

        // No processing loop and a fake clock: each pass is one this test runs.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new ServerFactory(
            new Dictionary<string, string>
            {
                ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl,
                ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token,
            },
            configureServices: services => services.AddSingleton<TimeProvider>(time), database: Database, passesByTest: true);
        using var client = server.CreateAdminClient();
        var processor = server.Services.GetRequiredService<JobProcessor>();
        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "atomic"));
        await server.QueryAsync(db => db.Database.ExecuteSqlRawAsync(failure));

        await processor.ProcessOnceAsync(CancellationToken.None);

        Assert.NotEmpty(runner.PulledFrom);
        Assert.Equal(0, (await server.CountRowsAsync()).Logs);
        Assert.Equal(0, await server.QueryAsync(db => db.Jobs.Select(j => j.RunnerTimestamp).SingleAsync()));

        await server.QueryAsync(db => db.Database.ExecuteSqlRawAsync(repair));
        await processor.ProcessOnceAsync(CancellationToken.None);

        var run = await client.GetRunAsync("atomic");
        Assert.Equal(RunStatus.Done, run.Status);
        var text = System.Text.Encoding.UTF8.GetString(await client.GetLogsTextAsync("atomic"));
        Assert.Equal(string.Concat(Enumerable.Range(1, 70).Select(i => $"line-{i}\n")), text);
    }

    [SkippableFact]
    public async Task UnreachableRunner_FailsTheJob_AfterTheTimeout_KeepingItsLogs()
    {
        const string Runner = "http://127.0.0.1:9/";
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var api = new ScriptedRunnerApi();
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = Runner, ["DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT"] = "120" },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(time);
                services.AddKeyedSingleton<IRunnerApi>(Runner, api);
            }, database: Database, passesByTest: true);
        using var client = server.CreateAdminClient();
        var processor = server.Services.GetRequiredService<JobProcessor>();
        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "lost"));

        await processor.ProcessOnceAsync(CancellationToken.None);
        Assert.Equal(RunStatus.Running, (await client.GetRunAsync("lost")).Status);
        Assert.Equal(2, (await client.GetLogsAsync("lost")).Logs.Count);

        api.Down = true;
        time.Advance(TimeSpan.FromSeconds(60));
        await processor.ProcessOnceAsync(CancellationToken.None);
        Assert.Equal(RunStatus.Running, (await client.GetRunAsync("lost")).Status);

        time.Advance(TimeSpan.FromSeconds(61));
        await processor.ProcessOnceAsync(CancellationToken.None);

        var run = await client.GetRunAsync("lost");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("error", run.StatusMessage);
        Assert.Equal("instance unreachable", run.Error);
        Assert.Equal(TerminationReason.InstanceUnreachable, run.TerminationReason);
        Assert.Equal(2, (await client.GetLogsAsync("lost")).Logs.Count);

        // Not released: the job may still run on that runner, which is asked again with a capped exponential backoff
        // (1 s, 2 s, 4 s, ... 30 s), not on every pass.
        Assert.False(await server.QueryAsync(db => db.Jobs.AllAsync(j => j.RunnerReleased)));
        var failedBefore = api.FailedCalls;
        for (var i = 0; i < 70; i++)
        {
            time.Advance(TimeSpan.FromSeconds(0.1));
            await processor.ProcessOnceAsync(CancellationToken.None);
        }

        // 7 s of passes: attempts after 0 s, 1 s and 3 s, each one failed call.
        Assert.Equal(3, api.FailedCalls - failedBefore);
        Assert.Empty(api.Stops);

        // The runner answers again: the job is stopped there with the server's reason, pulled to its end and deleted.
        api.Down = false;
        time.Advance(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 3; i++)
        {
            await processor.ProcessOnceAsync(CancellationToken.None);
        }

        var stop = Assert.Single(api.Stops);
        Assert.Equal(TerminationReason.InstanceUnreachable, stop.TerminationReason);
        Assert.Equal(1, api.Deletes);
        Assert.True(await server.QueryAsync(db => db.Jobs.AllAsync(j => j.RunnerReleased)));
        run = await client.GetRunAsync("lost");
        Assert.Equal(TerminationReason.InstanceUnreachable, run.TerminationReason);
        Assert.Equal([JobEventTypes.RunnerUnreachable, JobEventTypes.RunnerReturned], run.Events.Select(e => e.Type));
    }

    [SkippableFact]
    public async Task StopBeforeAssignment_EndsTheRunAtOnce_AndNothingReachesTheRunner()
    {
        const string Runner = "http://127.0.0.1:9/";
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var api = new ScriptedRunnerApi();

        // No processing loop: the job waits until this test runs a pass.
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = Runner },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(time);
                services.AddKeyedSingleton<IRunnerApi>(Runner, api);
            }, database: Database, passesByTest: true);
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "early"));

        using var stop = await client.PostAsync(new Uri("/api/runs/early/stop", UriKind.Relative), null);
        await server.Services.GetRequiredService<JobProcessor>().ProcessOnceAsync(CancellationToken.None);

        var run = await client.GetRunAsync("early");
        Assert.Equal(RunStatus.Terminated, run.Status);
        Assert.Equal("stopped", run.StatusMessage);
        Assert.Equal(TerminationReason.TerminatedByUser, run.TerminationReason);
        Assert.Equal(0, api.Submits);
        Assert.Null(run.Jobs[0].Runner);
    }

    [SkippableFact]
    public async Task Runs_AreListedNewestFirst()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" },
            configureServices: services => services.AddSingleton<TimeProvider>(time), database: Database);
        using var client = server.CreateAdminClient();

        foreach (var name in new[] { "first", "second", "third" })
        {
            await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: name));
            time.Advance(TimeSpan.FromMilliseconds(5));
        }

        Assert.Equal(["third", "second", "first"], (await client.ListRunsAsync()).Select(r => r.RunName));
    }

    private ServerFactory WithRunner(FakeRunner runner, string? dir = null) =>
        new(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl,
            ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token,
        }, dir, database: Database);

    private static async Task WaitUntilAsync(Func<bool> condition) => await WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition never held.");
            await Task.Delay(50);
        }
    }

    /// <summary>A runner client that answers with one running job and two log lines, until it is "down".</summary>
    private sealed class ScriptedRunnerApi : IRunnerApi
    {
        public bool Down { get; set; }

        public int FailedCalls { get; private set; }

        public List<StopBody> Stops { get; } = [];

        public int Deletes { get; private set; }

        public Task<HealthcheckResponse> HealthcheckAsync(CancellationToken cancellationToken) =>
            Answer(new HealthcheckResponse("logquota-runner", "test"));

        public int Submits { get; private set; }

        /// <summary>These scripted jobs carry no code, so the processor never asks for it.</summary>
        public Task<IApiResponse> CodeExistsAsync(string sha256, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A job without code made the processor ask the runner for code.");

        public Task PutCodeAsync(string sha256, HttpContent archive, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("A job without code made the processor upload code.");

        public Task SubmitAsync(SubmitBody body, CancellationToken cancellationToken)
        {
            Submits++;
            return Answer(0);
        }

        public Task<PullResponse> PullAsync(Guid jobId, long timestamp, CancellationToken cancellationToken) =>
            Answer(timestamp >= 3
                ? new PullResponse([], [], timestamp, Stops.Count == 0, 10)
                : new PullResponse(
                    [new JobStateEvent(JobState.Running, 1)],
                    [new LogEvent(2, "one\n"u8.ToArray()), new LogEvent(3, "two\n"u8.ToArray())],
                    3,
                    true,
                    8));

        public Task StopAsync(Guid jobId, StopBody body, CancellationToken cancellationToken)
        {
            if (!Down)
            {
                Stops.Add(body);
            }

            return Answer(0);
        }

        public Task DeleteAsync(Guid jobId, CancellationToken cancellationToken)
        {
            Deletes += Down ? 0 : 1;
            return Answer(0);
        }

        private Task<T> Answer<T>(T value)
        {
            if (Down)
            {
                FailedCalls++;
                return Task.FromException<T>(new HttpRequestException("Connection refused"));
            }

            return Task.FromResult(value);
        }
    }
}

/// <summary>The job processor on SQLite.</summary>
public sealed class JobProcessorSqliteTests() : JobProcessorTests(DatabaseProvider.Sqlite);

/// <summary>The job processor on PostgreSQL (skipped without <c>LOGQUOTA_TEST_POSTGRES</c>).</summary>
public sealed class JobProcessorPostgresTests() : JobProcessorTests(DatabaseProvider.Postgres);
