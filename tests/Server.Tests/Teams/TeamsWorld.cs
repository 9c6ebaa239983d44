using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Functional;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Teams;

/// <summary>Who asks, in the authorization table: one column each.</summary>
public enum Who
{
    /// <summary>The admin token's holder.</summary>
    Bootstrap,

    /// <summary>A user whose global role is admin, member of nothing.</summary>
    GlobalAdmin,

    /// <summary>alice, admin of alpha.</summary>
    ProjectAdmin,

    /// <summary>mona, manager of alpha.</summary>
    Manager,

    /// <summary>uma, user of alpha.</summary>
    User,

    /// <summary>nina, admin of beta and not a member of alpha nor main.</summary>
    Outsider,

    /// <summary>ghost: was a user of alpha (with a web session), then deleted.</summary>
    Deleted,
}

/// <summary>
/// A server on real Kestrel with users, two projects and runs in each, for the authorization table: projects
/// <c>alpha</c> (alice admin, mona manager, uma user) and <c>beta</c> (nina admin); in alpha, beta and main a finished
/// run <c>done</c> and a run <c>busy</c> that sleeps. Each caller has a bearer token and a web session; ghost's user is
/// deleted after both were made.
/// </summary>
public sealed class TeamsWorld : IAsyncDisposable
{
    private readonly Dictionary<Who, string> _tokens = [];
    private readonly CapturingLoggerProvider _log = new();
    private readonly Dictionary<Who, (HttpClient Client, HttpClientHandler Handler)> _sessions = [];

    private TeamsWorld(TestDatabase database)
    {
        Database = database;
        Server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_PORT"] = "0" }, database: database,
            configureServices: services => services.AddSingleton<ILoggerProvider>(_log));
    }

    /// <summary>What the server logged at Error or above, with the exception: what a 500 says it is in its log.</summary>
    public string Errors => string.Join('\n', _log.Entries.Where(e => e.Level >= LogLevel.Error).Select(e => $"{e.Category}: {e.Text}"));

    public TestDatabase Database { get; }

    public ServerFactory Server { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<TeamsWorld> StartAsync(DatabaseProvider provider)
    {
        var world = new TeamsWorld(TestDatabase.Create(provider));
        try
        {
            await world.ArrangeAsync();
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client that sends <paramref name="who"/>'s bearer token.</summary>
    public HttpClient Api(Who who)
    {
        var client = new HttpClient { BaseAddress = BaseAddress };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _tokens[who]);
        return client;
    }

    /// <summary><paramref name="who"/>'s web session (a cookie, no bearer token).</summary>
    public HttpClient Web(Who who) => _sessions[who].Client;

    public async ValueTask DisposeAsync()
    {
        if (BaseAddress is not null)
        {
            using var admin = Api(Who.Bootstrap);
            foreach (var project in new[] { "alpha", "beta", "main" })
            {
                using (await admin.PostAsync(new Uri($"/api/projects/{project}/runs/busy/stop", UriKind.Relative), null))
                {
                }
            }

            foreach (var project in new[] { "alpha", "beta", "main" })
            {
                await WaitForEndAsync(admin, project, "busy");
            }
        }

        foreach (var (client, handler) in _sessions.Values)
        {
            client.Dispose();
            handler.Dispose();
        }

        await Server.DisposeAsync();
        Database.Dispose();
    }

    private async Task ArrangeAsync()
    {
        Server.UseKestrel();
        Server.StartServer();
        using (var probe = Server.CreateClient())
        {
            BaseAddress = probe.BaseAddress!;
        }

        _tokens[Who.Bootstrap] = ServerFactory.AdminToken;
        using var admin = Api(Who.Bootstrap);
        _tokens[Who.GlobalAdmin] = await CreateUserAsync(admin, "root", GlobalRole.Admin);
        _tokens[Who.ProjectAdmin] = await CreateUserAsync(admin, "alice", GlobalRole.User);
        _tokens[Who.Manager] = await CreateUserAsync(admin, "mona", GlobalRole.User);
        _tokens[Who.User] = await CreateUserAsync(admin, "uma", GlobalRole.User);
        _tokens[Who.Outsider] = await CreateUserAsync(admin, "nina", GlobalRole.User);
        _tokens[Who.Deleted] = await CreateUserAsync(admin, "ghost", GlobalRole.User);

        // Projects made by their admins, who become their admins; members set by alpha's admin.
        using (var alice = Api(Who.ProjectAdmin))
        {
            await SendAsync(alice, HttpMethod.Post, "/api/projects", new { name = "alpha" }, HttpStatusCode.Created);
            await SendAsync(alice, HttpMethod.Put, "/api/projects/alpha/members/mona", new { role = "manager" }, HttpStatusCode.OK);
            await SendAsync(alice, HttpMethod.Put, "/api/projects/alpha/members/uma", new { role = "user" }, HttpStatusCode.OK);
            await SendAsync(alice, HttpMethod.Put, "/api/projects/alpha/members/ghost", new { role = "user" }, HttpStatusCode.OK);
        }

        using (var nina = Api(Who.Outsider))
        {
            await SendAsync(nina, HttpMethod.Post, "/api/projects", new { name = "beta" }, HttpStatusCode.Created);
        }

        foreach (var project in new[] { "alpha", "beta", "main" })
        {
            await SendAsync(admin, HttpMethod.Post, $"/api/projects/{project}/runs", new SubmitRunRequest([$"echo done in {project}"], RunName: "done"), HttpStatusCode.Created);
            await SendAsync(admin, HttpMethod.Post, $"/api/projects/{project}/runs", new SubmitRunRequest(["sleep 3600"], RunName: "busy"), HttpStatusCode.Created);
        }

        foreach (var project in new[] { "alpha", "beta", "main" })
        {
            await WaitForEndAsync(admin, project, "done");
        }

        foreach (var who in Enum.GetValues<Who>())
        {
            _sessions[who] = await SignInAsync(_tokens[who]);
        }

        await SendAsync(admin, HttpMethod.Delete, "/api/users/ghost", null, HttpStatusCode.NoContent);
    }

    private static async Task<string> CreateUserAsync(HttpClient admin, string name, GlobalRole role)
    {
        using var response = await admin.PostAsync(
            new Uri("/api/users", UriKind.Relative), ApiClient.Json(new CreateUserRequest(name, role)));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token;
    }

    private static async Task SendAsync(HttpClient client, HttpMethod method, string path, object? body, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = body is null ? null : ApiClient.Json(body) };
        using var response = await client.SendAsync(request);
        Assert.True(response.StatusCode == expected, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task WaitForEndAsync(HttpClient client, string project, string run)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var details = await client.GetFromJsonAsync<RunDetails>(new Uri($"/api/projects/{project}/runs/{run}", UriKind.Relative), LogQuotaJson.Options);
            if (details!.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Run {run} of {project} is still {details.Status} after 90 s.");
            await Task.Delay(50);
        }
    }

    /// <summary>Signs in on the web page as a browser does: the form's antiforgery field, then the post; keeps the cookie.</summary>
    private async Task<(HttpClient, HttpClientHandler)> SignInAsync(string token)
    {
        var handler = new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = new CookieContainer() };
        var client = new HttpClient(handler) { BaseAddress = BaseAddress };
        using var response = await client.PostFormAsync("/signin", ("token", token));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return (client, handler);
    }
}
