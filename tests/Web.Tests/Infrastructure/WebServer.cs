using System.Net.Http.Headers;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>
/// The real server, with its embedded runner and real jobs, listening on a free loopback port (Kestrel, not the
/// in-memory test server: a real browser connects to it over real HTTP), in a temp directory of its own.
/// </summary>
public sealed class WebServer : WebApplicationFactory<ServerSettings>, IAsyncLifetime
{
    public const string AdminToken = "web-test-admin-token-0123456789";

    /// <summary>The runner token of the server (and its local runner): a runner started with it can be added on the Runners tab.</summary>
    public const string RunnerToken = "web-test-runner-token-0123456789";

    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-web-test-").FullName;
    private readonly OwnSqlitePool _pool = new();

    public Uri Url { get; private set; } = null!;

    public Task InitializeAsync()
    {
        UseKestrel();
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Url = new Uri(addresses.First());
        return Task.CompletedTask;
    }

    /// <summary>A plain HTTP client with the admin token, for arranging runs the browser then looks at.</summary>
    public HttpClient CreateAdminHttpClient()
    {
        var client = CreatePlainHttpClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>A client with no token and no cookies that does not follow redirects: what a forged request looks like.</summary>
    public HttpClient CreatePlainHttpClient() =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(100) };

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
        builder.UseSetting("DSTACK_SERVER_DIR", _dir);
        builder.UseSetting("DSTACK_SERVER_PORT", "0");
        builder.UseSetting("DSTACK_SERVER_ADMIN_TOKEN", AdminToken);
        builder.UseSetting("DSTACK_RUNNER_TOKEN", RunnerToken);

        // The local runner's jobs' directories: beside the test's directory, never the shared default.
        builder.UseSetting("DSTACK_RUNNER_WORK_DIR", _dir + "-work");

        // Empty means "unset": a DSTACK_* variable in the environment of the test run cannot leak in.
        builder.UseSetting("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "");
        builder.UseSetting("DSTACK_SERVER_RUNNERS", "");

        // Polls ten times a second so a test waits for its job, not for the server.
        builder.UseSetting("DSTACK_SERVER_POLL_INTERVAL", "0.1");
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        _pool.Clear();
        foreach (var dir in new[] { _dir, _dir + "-work" }.Where(Directory.Exists))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A job's process may still be closing a file in its working directory; the OS temp cleaner gets it.
            }
        }
    }
}
