using LogQuota.Server.Configuration;
using LogQuota.Server.Processing;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Code;

/// <summary>
/// SPEC §9: the processor hands a job's code to its runner before the job, through the real Refit client and resilience
/// pipeline, to a stand-in runner on loopback that keeps what it receives.
/// </summary>
public abstract class CodeHandOffTests(DatabaseProvider provider) : IDisposable
{
    protected TestDatabase Database { get; } = TestDatabase.Create(provider);

    public void Dispose()
    {
        Database.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public async Task ARunnerWithoutTheCode_GetsTheArchive_ThenTheJob()
    {
        await using var runner = await FakeRunner.StartAsync();

        // Running from the first pull on, so the job is submitted once (a provisioning job is submitted again each pass).
        runner.AddState(JobState.Running);
        await using var server = WithRunner(runner);
        using var client = server.CreateAdminClient();

        // Larger than a chunk: the runner gets the chunks read back one after another.
        var archive = TestArchives.OfSize((5 << 20) / 2);
        var sha = await client.UploadCodeAsync(archive);
        await client.SubmitAsync(new SubmitRunRequest(["python3 train.py"], RunName: "carried", CodeHash: sha));

        await Eventually.TrueAsync(() => !runner.Submitted.IsEmpty, "the job reached the runner");
        Assert.Equal(archive, runner.Code[sha]);
        Assert.Equal(sha, Assert.Single(runner.Submitted).JobSpec.CodeHash);
        var calls = runner.Calls.Where(c => c.Contains("/api/code", StringComparison.Ordinal) || c.StartsWith("PUT code", StringComparison.Ordinal) || c == "POST /api/jobs").ToList();
        Assert.Equal([$"HEAD /api/code/{sha}", $"PUT /api/code/{sha}", $"PUT code application/gzip {archive.Length}", "POST /api/jobs"], calls);
    }

    [SkippableFact]
    public async Task ARunnerThatHoldsTheCode_GetsOnlyTheJob()
    {
        await using var runner = await FakeRunner.StartAsync();
        var archive = TestArchives.Project();
        var sha = TestArchives.Sha256(archive);
        runner.Code[sha] = archive;
        await using var server = WithRunner(runner);
        using var client = server.CreateAdminClient();
        Assert.Equal(sha, await client.UploadCodeAsync(archive));

        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "held", CodeHash: sha));

        await Eventually.TrueAsync(() => !runner.Submitted.IsEmpty, "the job reached the runner");
        Assert.Contains($"HEAD /api/code/{sha}", runner.Calls);
        Assert.DoesNotContain(runner.Calls, c => c.StartsWith("PUT", StringComparison.Ordinal));
    }

    /// <summary>The retry sends the same body again: the content re-reads its chunks each time it is sent.</summary>
    [SkippableFact]
    public async Task AnUploadTheRunnerFails_IsSentAgainWhole()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.FailCodePuts = 1;
        await using var server = WithRunner(runner);
        using var client = server.CreateAdminClient();
        var archive = TestArchives.OfSize(1_500_000);
        var sha = await client.UploadCodeAsync(archive);

        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "resent", CodeHash: sha));

        await Eventually.TrueAsync(() => !runner.Submitted.IsEmpty, "the job reached the runner");
        Assert.Equal(archive, runner.Code[sha]);
        Assert.Equal(2, runner.Calls.Count(c => c == $"PUT code application/gzip {archive.Length}"));
    }

    [SkippableFact]
    public async Task CodeGoneFromTheServer_FailsOnlyThatJob_AndNothingReachesTheRunner()
    {
        await using var runner = await FakeRunner.StartAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token },
            configureServices: services => services.AddSingleton<TimeProvider>(time), database: Database, passesByTest: true);
        using var client = server.CreateAdminClient();
        var sha = await client.UploadCodeAsync(TestArchives.Project());
        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "orphaned", CodeHash: sha));

        // As after a restore of an older backup: the run names code the database no longer holds.
        await server.QueryAsync(async db => await db.CodeChunks.ExecuteDeleteAsync() + await db.CodeArchives.ExecuteDeleteAsync());
        await server.Services.GetRequiredService<JobProcessor>().ProcessOnceAsync(CancellationToken.None);

        var run = await client.GetRunAsync("orphaned");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal(TerminationReason.ExecutorError, run.TerminationReason);
        Assert.Contains($"code {sha} is no longer on the server", run.Jobs[0].TerminationMessage, StringComparison.Ordinal);
        Assert.DoesNotContain("POST /api/jobs", runner.Calls);
    }

    private ServerFactory WithRunner(FakeRunner runner) =>
        new(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl,
            ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token,
        }, database: Database);
}

/// <summary>The code hand-off on SQLite.</summary>
public sealed class CodeHandOffSqliteTests() : CodeHandOffTests(DatabaseProvider.Sqlite);

/// <summary>The code hand-off on PostgreSQL (skipped without <c>LOGQUOTA_TEST_POSTGRES</c>).</summary>
public sealed class CodeHandOffPostgresTests() : CodeHandOffTests(DatabaseProvider.Postgres);
