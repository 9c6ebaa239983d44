using System.Net.Http.Headers;
using System.Text;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Teams;

/// <summary>One <see cref="TeamsWorld"/> per database, started when a row first needs it and shared by all its rows.</summary>
public sealed class TeamsWorlds : IAsyncLifetime
{
    private readonly Dictionary<DatabaseProvider, Task<TeamsWorld>> _worlds = [];
    private readonly Lock _gate = new();

    /// <exception cref="SkipException">PostgreSQL was asked for and no test cluster is configured.</exception>
    public Task<TeamsWorld> GetAsync(DatabaseProvider provider)
    {
        lock (_gate)
        {
            if (!_worlds.TryGetValue(provider, out var world))
            {
                // Skips (PostgreSQL without LOGQUOTA_TEST_POSTGRES) before anything starts, on every row that asks.
                if (provider == DatabaseProvider.Postgres)
                {
                    TestDatabase.ClusterUrl();
                }

                _worlds[provider] = world = TeamsWorld.StartAsync(provider);
            }

            return world;
        }
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var world in _worlds.Values)
        {
            if (world.IsCompletedSuccessfully)
            {
                await world.Result.DisposeAsync();
            }
        }
    }
}

/// <summary>
/// SPEC §10: every authorization rule is a row — role × endpoint × own, other or main project — on SQLite and on
/// PostgreSQL; and the table covers every endpoint of the routing table. Nothing a row sends may change what another
/// row sees (see <see cref="Rule"/>), which <see cref="TheTable_ChangesNothing"/> checks.
/// </summary>
public sealed class AuthorizationTableTests(TeamsWorlds worlds) : IClassFixture<TeamsWorlds>
{
    public static TheoryData<DatabaseProvider, Who, string> Rows()
    {
        var rows = new TheoryData<DatabaseProvider, Who, string>();
        foreach (var provider in new[] { DatabaseProvider.Sqlite, DatabaseProvider.Postgres })
        {
            foreach (var rule in AuthorizationTable.Rules)
            {
                foreach (var who in Enum.GetValues<Who>())
                {
                    rows.Add(provider, who, rule.Key);
                }
            }
        }

        return rows;
    }

    [SkippableTheory]
    [MemberData(nameof(Rows))]
    public async Task EachCaller_GetsTheStatusOfTheirRow(DatabaseProvider provider, Who who, string key)
    {
        var world = await worlds.GetAsync(provider);
        var rule = AuthorizationTable.Rules.Single(r => r.Key == key);
        var expected = rule.Expected[(int)who];

        using var api = rule.Web ? null : world.Api(who);
        var client = api ?? world.Web(who);
        using var request = new HttpRequestMessage(new HttpMethod(rule.Method), new Uri(rule.Path, UriKind.Relative)) { Content = Body(rule.Body) };
        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == (int)response.StatusCode,
            $"{who} {rule.Key}: expected {expected}, got {(int)response.StatusCode} {body}{((int)response.StatusCode >= 500 ? "\nthe server logged:\n" + world.Errors : "")}");

        // A refusal never names what it hides: a 404 for a project says the same whether it exists or not.
        if (expected == 404 && rule.Path.Contains("/projects/", StringComparison.Ordinal) && body.Contains("project", StringComparison.Ordinal))
        {
            Assert.Contains("You are a member of no project named", body, StringComparison.Ordinal);
        }
    }

    [SkippableTheory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task TheTable_CoversEveryEndpoint_OfTheApiTheWebApiAndMetrics(DatabaseProvider provider)
    {
        var world = await worlds.GetAsync(provider);
        var routed = world.Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Pattern: "/" + e.RoutePattern.RawText!.Trim('/'), Methods: e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? []))
            .Where(e => e.Pattern.StartsWith("/api/", StringComparison.Ordinal) || e.Pattern.StartsWith("/web/api/", StringComparison.Ordinal))
            .Where(e => e.Pattern != "/api/healthcheck")
            .SelectMany(e => e.Methods.Select(m => $"{m} {e.Pattern}"))
            .ToHashSet(StringComparer.Ordinal);

        // The Prometheus exporter answers /metrics from a branch of the pipeline, not from an endpoint.
        routed.Add("GET /metrics");
        var covered = AuthorizationTable.Rules.Select(r => $"{r.Method} {r.Route}").ToHashSet(StringComparer.Ordinal);
        Assert.Empty(routed.Except(covered).Order(StringComparer.Ordinal));
        Assert.Empty(covered.Except(routed).Order(StringComparer.Ordinal));
    }

    [SkippableTheory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task TheTable_ChangesNothing(DatabaseProvider provider)
    {
        var world = await worlds.GetAsync(provider);
        var before = await SnapshotAsync(world);
        foreach (var rule in AuthorizationTable.Rules.Where(r => !r.Web))
        {
            foreach (var who in Enum.GetValues<Who>())
            {
                using var api = world.Api(who);
                using var request = new HttpRequestMessage(new HttpMethod(rule.Method), new Uri(rule.Path, UriKind.Relative)) { Content = Body(rule.Body) };
                using var response = await api.SendAsync(request);
            }
        }

        Assert.Equal(before, await SnapshotAsync(world));
    }

    private static readonly string[] BusyProjects = ["alpha", "beta", "main"];

    /// <summary>The same run name in two projects makes two series, told apart by their <c>project</c> label.</summary>
    [Fact]
    public async Task TheJobGauges_NameEachRunsProject()
    {
        var world = await worlds.GetAsync(DatabaseProvider.Sqlite);
        using var admin = world.Api(Who.Bootstrap);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var lines = (await admin.GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n')
                .Where(l => l.StartsWith("logquota_job_log_bytes_hour{", StringComparison.Ordinal) && l.Contains("run_name=\"busy\"", StringComparison.Ordinal))
                .ToList();
            var projects = BusyProjects.Where(p => lines.Any(l => l.Contains($"project=\"{p}\"", StringComparison.Ordinal))).ToList();
            if (projects.Count == 3)
            {
                Assert.Equal(3, lines.Count);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"After 90 s the busy runs' gauges are: {string.Join(" | ", lines)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Users, projects, members, runs and jobs, as text: what a row could change.</summary>
    private static Task<string> SnapshotAsync(TeamsWorld world) => world.Server.QueryAsync(async db =>
    {
        var users = await db.Users.OrderBy(u => u.Name).Select(u => u.Name + ":" + u.GlobalRole + ":" + Convert.ToHexString(u.TokenHash)).ToListAsync();
        var projects = await db.Projects.OrderBy(p => p.Name).Select(p => p.Name).ToListAsync();
        var members = await db.ProjectMembers.Select(m => m.ProjectId + ":" + m.User.Name + ":" + m.Role).ToListAsync();
        var runs = await db.Runs.Select(r => r.ProjectId + ":" + r.RunName).ToListAsync();
        var jobs = await db.Jobs.Select(j => j.Id + ":" + j.StopRequested).ToListAsync();
        return string.Join('\n', users.Concat(projects).Concat(members.Order(StringComparer.Ordinal)).Concat(runs.Order(StringComparer.Ordinal)).Concat(jobs.Order(StringComparer.Ordinal)));
    });

    /// <summary>A JSON body; the empty body goes as a code archive (<c>application/gzip</c>).</summary>
    private static ByteArrayContent? Body(string? body) => body switch
    {
        null => null,
        "" => new ByteArrayContent([]) { Headers = { ContentType = new MediaTypeHeaderValue("application/gzip") } },
        _ => new StringContent(body, Encoding.UTF8, "application/json"),
    };
}
