using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>
/// The real server on a loopback port whose only runner is a <see cref="FakeRunner"/>: the test scripts what the job's
/// screen shows (its stored lines and its live region) and the CLI reads it through the server as in use.
/// </summary>
public sealed class ScriptedServer : IAsyncDisposable
{
    private ScriptedServer(FakeRunner runner, LocalServer server)
    {
        Runner = runner;
        Server = server;
    }

    public FakeRunner Runner { get; }

    public LocalServer Server { get; }

    public static async Task<ScriptedServer> StartAsync()
    {
        var runner = await FakeRunner.StartAsync();
        var server = new LocalServer(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl,
            ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token,
        });
        await ((IAsyncLifetime)server).InitializeAsync();
        return new ScriptedServer(runner, server);
    }

    /// <summary>Submits a run; the fake runner plays its script for it.</summary>
    public async Task SubmitAsync(string runName)
    {
        using var client = Server.CreateAdminHttpClient();
        using var submitted = await client.PostAsJsonAsync(
            new Uri("/api/runs", UriKind.Relative), new SubmitRunRequest(["the scripted job"], RunName: runName), LogQuotaJson.Options);
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
    }

    /// <summary>Waits until the server's logs endpoint answers <paramref name="live"/> for the run.</summary>
    public async Task WaitForLiveAsync(string runName, string? live)
    {
        using var client = Server.CreateAdminHttpClient();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var logs = await client.GetFromJsonAsync<LogsResponse>(new Uri($"/api/runs/{runName}/logs", UriKind.Relative), LogQuotaJson.Options);
            var current = logs!.Live is null ? null : System.Text.Encoding.UTF8.GetString(logs.Live);
            if (current == live)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The server still shows live '{current}', not '{live}'.");
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await ((IAsyncLifetime)Server).DisposeAsync();
        await Runner.DisposeAsync();
    }
}
