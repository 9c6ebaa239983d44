using System.Net.Http.Headers;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// The real server (real SQLite file with migrations applied, real job processor, real embedded runner on
/// loopback unless <c>DSTACK_SERVER_RUNNERS</c> is given), in a temp directory of its own.
/// </summary>
/// <remarks>The type argument only names the server's assembly: <c>Program</c> would be ambiguous, since the
/// server references the runner, which has a top-level <c>Program</c> of its own.</remarks>
public sealed class ServerFactory : WebApplicationFactory<ServerSettings>
{
    public const string AdminToken = "test-admin-token";

    private readonly TempDirectory? _ownDir;
    private readonly Dictionary<string, string> _settings;
    private readonly Action<IServiceCollection>? _configureServices;
    private readonly bool _passesByTest;
    private readonly OwnSqlitePool _pool = new();

    /// <param name="settings">Environment variables on top of the test defaults.</param>
    /// <param name="dir">The server directory; a fresh temp directory, deleted afterwards, when null.</param>
    /// <param name="configureServices">Replacements at the edges (time, another service).</param>
    /// <param name="database">The test's database; SQLite in the server directory when null.</param>
    /// <param name="passesByTest">
    /// No background loops of the processor: passes run only when the test calls
    /// <see cref="LogQuota.Server.Processing.JobProcessor"/> itself, no runner stream is read (every job is pulled by the
    /// passes, one by one). A test that moves a fake clock needs this: the clock would wake the processing loop, whose
    /// pass reads the clock and the scripted runner in between the test's steps, and on PostgreSQL its claim's row locks
    /// would make the test's pass skip the job (<c>FOR UPDATE SKIP LOCKED</c>), as a replica skips a job another one is
    /// claiming. The replica's lease heartbeat still runs: it writes its own row only, never a job's.
    /// </param>
    public ServerFactory(
        IReadOnlyDictionary<string, string>? settings = null,
        string? dir = null,
        Action<IServiceCollection>? configureServices = null,
        TestDatabase? database = null,
        bool passesByTest = false)
    {
        _passesByTest = passesByTest;
        _ownDir = dir is null ? new TempDirectory() : null;
        Dir = dir ?? _ownDir!.Path;
        _configureServices = configureServices;
        _settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Empty means "unset": a DSTACK_* variable in the environment of the test run cannot leak in.
            ["DSTACK_SERVER_HOST"] = "",
            ["DSTACK_SERVER_PORT"] = "",
            ["DSTACK_DATABASE_URL"] = "",
            ["DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR"] = "",
            ["DSTACK_SERVER_LOG_QUOTA_ACTION"] = "",
            ["DSTACK_SERVER_RUNNERS"] = "",
            ["DSTACK_RUNNER_TOKEN"] = "",
            ["DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT"] = "",
            ["DSTACK_SERVER_LOG_RETENTION"] = "",
            ["DSTACK_SERVER_CODE_MAX_BYTES"] = "",
            ["DSTACK_SERVER_DIR"] = Dir,
            ["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken,

            // The local runner's jobs' directories: beside the test's directory, never the shared default.
            ["DSTACK_RUNNER_WORK_DIR"] = WorkDir,

            // Polls ten times a second so a test waits for the job, not for the server.
            ["DSTACK_SERVER_POLL_INTERVAL"] = "0.1",
        };
        if (database?.Url is { } url)
        {
            _settings["DSTACK_DATABASE_URL"] = url;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            _settings[key] = value;
        }
    }

    public string Dir { get; }

    /// <summary>The local runner's DSTACK_RUNNER_WORK_DIR; removed on dispose.</summary>
    public string WorkDir => Dir.TrimEnd('/') + "-work";

    /// <summary>A client that sends the admin token.</summary>
    public HttpClient CreateAdminClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>Runs <paramref name="query"/> against the server's database.</summary>
    public async Task<T> QueryAsync<T>(Func<ServerDbContext, Task<T>> query)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        return await query(db);
    }

    public Task<(int Runs, int Jobs, int Logs)> CountRowsAsync() =>
        QueryAsync(async db => (await db.Runs.CountAsync(), await db.Jobs.CountAsync(), await db.LogEvents.CountAsync()));

    /// <summary>Builds the server's host and remembers its SQLite pool, the one this server clears when disposed.</summary>
    protected override IHost CreateHost(IHostBuilder builder)
    {
        var host = base.CreateHost(builder);
        _pool.RememberFrom(host.Services);
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_configureServices is not null)
        {
            builder.ConfigureTestServices(_configureServices);
        }

        if (_passesByTest)
        {
            builder.ConfigureTestServices(services =>
            {
                foreach (var loop in new[]
                         {
                             typeof(LogQuota.Server.Processing.JobProcessingService), typeof(LogQuota.Server.Processing.RunnerStreams),
                         })
                {
                    services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == loop));
                }
            });
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _pool.Clear();
        _ownDir?.Dispose();
        RemoveWorkDir();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _pool.Clear();
            _ownDir?.Dispose();
            RemoveWorkDir();
        }
    }

    private void RemoveWorkDir()
    {
        if (Directory.Exists(WorkDir))
        {
            Directory.Delete(WorkDir, recursive: true);
        }
    }
}
