using System.Net.Http.Headers;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>
/// The real server, with its embedded runner, listening on a free loopback port (Kestrel, not the in-memory
/// test server: the CLI connects over real HTTP as it does in use). No admin token is configured, so the
/// server generates one into its directory, and the CLI finds it through <c>DSTACK_SERVER_DIR</c> exactly as
/// it finds a local server's token.
/// </summary>
public sealed class LocalServer : WebApplicationFactory<ServerSettings>, IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-cli-test-").FullName;
    private readonly IReadOnlyDictionary<string, string> _settings;
    private readonly OwnSqlitePool _pool = new();

    public LocalServer()
        : this(new Dictionary<string, string>())
    {
    }

    /// <param name="settings">Server settings on top of the test defaults, such as <c>DSTACK_SERVER_RUNNERS</c> naming a fake runner.</param>
    /// <remarks>Not public: xunit builds a collection fixture through its one public constructor.</remarks>
    internal LocalServer(IReadOnlyDictionary<string, string> settings) => _settings = settings;

    public Uri Url { get; private set; } = null!;

    public string Dir => _dir;

    public string AdminToken => File.ReadAllText(Path.Combine(_dir, "admin-token")).Trim();

    /// <summary>The environment of a user whose CLI talks to this server with the defaults: URL and server directory only.</summary>
    public IReadOnlyDictionary<string, string> CliEnvironment => new Dictionary<string, string>
    {
        ["DSTACK_SERVER_URL"] = Url.ToString(),
        ["DSTACK_SERVER_DIR"] = _dir,
    };

    public Task InitializeAsync()
    {
        UseKestrel();
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Url = new Uri(addresses.First());
        return Task.CompletedTask;
    }

    /// <summary>A plain HTTP client with the admin token, for arranging what the CLI then reads.</summary>
    public HttpClient CreateAdminHttpClient()
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

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

        // The local runner's jobs' directories: beside the test's directory, never the shared default.
        builder.UseSetting("DSTACK_RUNNER_WORK_DIR", _dir + "-work");

        // Polls ten times a second so a test waits for its job, not for the server.
        builder.UseSetting("DSTACK_SERVER_POLL_INTERVAL", "0.1");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    async Task IAsyncLifetime.DisposeAsync() => await DisposeAsync();

    /// <summary>
    /// Stops the host and deletes its directories: as a collection fixture (through <see cref="IAsyncLifetime"/>) and
    /// after <c>await using</c> alike, which calls this and never the fixture's disposal.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        try
        {
            await base.DisposeAsync();
        }
        finally
        {
            // Also when the host's disposal throws: the directories held its database, keys and every job's files.
            _pool.Clear();
            foreach (var dir in new[] { _dir, _dir + "-work" })
            {
                await DeleteAsync(dir);
            }
        }
    }

    /// <summary>Deletes <paramref name="dir"/>, retrying for up to 30 s while a job's last process still closes a file in it.</summary>
    private static async Task DeleteAsync(string dir)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Directory.Exists(dir))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class LocalServerGroup : ICollectionFixture<LocalServer>
{
    public const string Name = "local server";
}
