using System.Net;
using LogQuota.Server.Code;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Code;

/// <summary>SPEC §9: code that no run refers to any more is deleted once unused for the grace period, and only then.</summary>
public abstract class CodeCollectorTests(DatabaseProvider provider) : IDisposable
{
    protected TestDatabase Database { get; } = TestDatabase.Create(provider);

    public void Dispose()
    {
        Database.Dispose();
        GC.SuppressFinalize(this);
    }

    [SkippableFact]
    public async Task UnreferencedCode_IsDeletedAfterTheGrace_ReferencedCodeIsKept_UntilItsRunIsDeleted()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = Server(time);
        using var client = server.CreateAdminClient();
        var collector = server.Services.GetRequiredService<CodeCollector>();
        var used = await client.UploadCodeAsync(TestArchives.Project("used"));
        var abandoned = await client.UploadCodeAsync(TestArchives.OfSize((3 << 20) / 2));
        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "keeper", CodeHash: used));

        // Ended before any runner got it: a finished run holds its code all the same.
        using (var stop = await client.PostAsync(new Uri("/api/runs/keeper/stop", UriKind.Relative), null))
        {
            Assert.Equal(RunStatus.Terminated, (await client.GetRunAsync("keeper")).Status);
        }

        // Within the grace an upload waits for its submit, referenced or not.
        time.Advance(CodeCollector.Grace - TimeSpan.FromMinutes(1));
        Assert.Equal(0, await collector.CollectAsync(CancellationToken.None));
        Assert.Equal(new[] { abandoned, used }.Order(StringComparer.Ordinal), await HeldAsync(server));

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await collector.CollectAsync(CancellationToken.None));
        Assert.Equal([used], await HeldAsync(server));
        Assert.Equal(0, await server.QueryAsync(db => db.CodeChunks.CountAsync(c => c.Sha256 == abandoned)));
        Assert.Equal(HttpStatusCode.NotFound, await client.HeadCodeAsync(abandoned));

        using (var delete = await client.DeleteAsync(new Uri("/api/runs/keeper", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.Equal(1, await collector.CollectAsync(CancellationToken.None));
        Assert.Empty(await HeldAsync(server));
        Assert.Equal(0, await server.QueryAsync(db => db.CodeChunks.CountAsync()));
    }

    /// <summary>A submit moves the archive's use time: code named again just before the sweep waits another grace period.</summary>
    [SkippableFact]
    public async Task ASubmitNamingOldCode_KeepsItAnotherGrace_AfterItsRunIsGone()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = Server(time);
        using var client = server.CreateAdminClient();
        var collector = server.Services.GetRequiredService<CodeCollector>();
        var sha = await client.UploadCodeAsync(TestArchives.Project());

        time.Advance(CodeCollector.Grace * 2);
        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "late", CodeHash: sha));
        using (var stop = await client.PostAsync(new Uri("/api/runs/late/stop", UriKind.Relative), null))
        using (var delete = await client.DeleteAsync(new Uri("/api/runs/late", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        Assert.Equal(0, await collector.CollectAsync(CancellationToken.None));
        time.Advance(CodeCollector.Grace + TimeSpan.FromSeconds(1));
        Assert.Equal(1, await collector.CollectAsync(CancellationToken.None));
    }

    /// <summary>
    /// A server on frozen time that runs only the collections the test runs: advancing the clock would fire the collector's
    /// own timer, and the processor's, which would hand a job to a runner (nobody at 127.0.0.1:9) between its submit and its stop.
    /// </summary>
    private ServerFactory Server(TimeProvider time) =>
        new(new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" },
            configureServices: services => WithoutTimers(services, time), database: Database, passesByTest: true);

    private static void WithoutTimers(IServiceCollection services, TimeProvider time)
    {
        services.AddSingleton(time);
        services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(CodeCollectorService)));
    }

    private static Task<List<string>> HeldAsync(ServerFactory server) =>
        server.QueryAsync(async db => (await db.CodeArchives.Select(a => a.Sha256).ToListAsync()).Order(StringComparer.Ordinal).ToList());

}

/// <summary>The code collector on SQLite.</summary>
public sealed class CodeCollectorSqliteTests() : CodeCollectorTests(DatabaseProvider.Sqlite);

/// <summary>The code collector on PostgreSQL (skipped without <c>LOGQUOTA_TEST_POSTGRES</c>).</summary>
public sealed class CodeCollectorPostgresTests() : CodeCollectorTests(DatabaseProvider.Postgres);
