using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Tests.Budgets;

/// <summary>
/// Servers (one, or two replicas on one PostgreSQL database) sharing one real runner, and the calls a budget test makes:
/// projects, runs in a project, waiting for their ends, and their stored output.
/// </summary>
internal sealed class BudgetWorld : IAsyncDisposable
{
    /// <summary>The waits' limit: generous, so a busy machine slows a test and never fails it.</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(90);

    private readonly InProcessRunner _runner;
    private readonly TestDatabase _database;
    private readonly List<ServerFactory> _servers = [];
    private readonly List<HttpClient> _clients = [];

    private BudgetWorld(InProcessRunner runner, TestDatabase database)
    {
        _runner = runner;
        _database = database;
    }

    /// <summary>The clients of the replicas, in order; the first for a single server.</summary>
    public IReadOnlyList<HttpClient> Clients => _clients;

    /// <summary><paramref name="replicas"/> servers on one database of <paramref name="provider"/>, sharing one real runner.</summary>
    public static async Task<BudgetWorld> StartAsync(DatabaseProvider provider, int replicas = 1)
    {
        var database = TestDatabase.Create(provider);
        var world = new BudgetWorld(await InProcessRunner.StartAsync(maxJobs: 16), database);
        for (var i = 0; i < replicas; i++)
        {
            var server = new ServerFactory(
                new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = world._runner.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = InProcessRunner.Token },
                database: database);
            world._servers.Add(server);
            world._clients.Add(server.CreateAdminClient());
        }

        return world;
    }

    public HttpClient Client => _clients[0];

    public async Task<ProjectInfo> CreateProjectAsync(object body)
    {
        using var response = await Client.PostAsync(new Uri("/api/projects", UriKind.Relative), ApiClient.Json(body));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ProjectInfo>(LogQuotaJson.Options))!;
    }

    public async Task<ProjectInfo> GetProjectAsync(string project) =>
        (await Client.GetFromJsonAsync<ProjectInfo>(new Uri($"/api/projects/{project}", UriKind.Relative), LogQuotaJson.Options))!;

    public static async Task<RunDetails> SubmitAsync(HttpClient client, string project, string runName, string command)
    {
        using var response = await client.PostAsync(new Uri($"/api/projects/{project}/runs", UriKind.Relative),
            ApiClient.Json(new SubmitRunRequest([command], RunName: runName)));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RunDetails>(LogQuotaJson.Options))!;
    }

    public async Task<RunDetails> WaitForEndAsync(string project, string runName)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (true)
        {
            var run = (await Client.GetFromJsonAsync<RunDetails>(new Uri($"/api/projects/{project}/runs/{runName}", UriKind.Relative), LogQuotaJson.Options))!;
            if (run.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Waited {WaitLimit.TotalSeconds} s for run {project}/{runName} to end; it is still {run.Status} ({run.StatusMessage}).");
            await Task.Delay(100);
        }
    }

    /// <summary>Every stored log event of the run, in order (all pages).</summary>
    public async Task<List<RunLogEvent>> LogsAsync(string project, string runName)
    {
        var logs = new List<RunLogEvent>();
        string? next = null;
        do
        {
            var query = next is null ? "" : $"?next_token={Uri.EscapeDataString(next)}";
            var page = (await Client.GetFromJsonAsync<LogsResponse>(new Uri($"/api/projects/{project}/runs/{runName}/logs{query}", UriKind.Relative), LogQuotaJson.Options))!;
            logs.AddRange(page.Logs);
            next = page.NextToken;
        }
        while (next is not null);
        return logs;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        await _runner.DisposeAsync();
        _database.Dispose();
    }
}
