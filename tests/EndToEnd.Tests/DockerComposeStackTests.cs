using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using DotNet.Testcontainers.Builders;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// Case 1 of the seed's plan against the shipped images (src/Server/Dockerfile, src/Runner/Dockerfile)
/// built and run by Testcontainers. Needs a Docker engine; where none is reachable the test is
/// reported as skipped with the reason, never passed silently; so is an engine that is silent or older than the API
/// Testcontainers speaks (<see cref="DockerEngine"/>). The same scenario runs against
/// real processes in <see cref="SeedTestPlanTests"/>.
/// </summary>
public sealed class DockerComposeStackTests
{
    private const string RunnerToken = "docker-runner-token-0123456789";
    private const string AdminToken = "docker-admin-token-0123456789";

    [SkippableFact]
    public async Task Images_RunTheQuotaKill_WithPartialLogs()
    {
        var whyNot = await DockerEngine.WhyUnavailableAsync(Environment.GetEnvironmentVariable("DOCKER_HOST"));
        Skip.If(whyNot is not null, whyNot);

        // Every wait has a deadline: image builds, container starts and their health checks, and the run itself.
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var ct = limit.Token;

        var root = new CommonDirectoryPath(SystemProcesses.RepositoryRoot);
        var runnerImage = new ImageFromDockerfileBuilder()
            .WithDockerfileDirectory(root, string.Empty).WithDockerfile("src/Runner/Dockerfile").WithCleanUp(true).Build();
        var serverImage = new ImageFromDockerfileBuilder()
            .WithDockerfileDirectory(root, string.Empty).WithDockerfile("src/Server/Dockerfile").WithCleanUp(true).Build();
        await runnerImage.CreateAsync(ct);
        await serverImage.CreateAsync(ct);

        await using var network = new NetworkBuilder().Build();
        await using var runner = new ContainerBuilder(runnerImage)
            .WithNetwork(network).WithNetworkAliases("runner-1")
            .WithEnvironment("DSTACK_RUNNER_TOKEN", RunnerToken)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(10999).ForPath("/api/healthcheck")))
            .Build();
        await using var server = new ContainerBuilder(serverImage)
            .WithNetwork(network)
            .WithEnvironment("DSTACK_SERVER_RUNNERS", "http://runner-1:10999")
            .WithEnvironment("DSTACK_RUNNER_TOKEN", RunnerToken)
            .WithEnvironment("DSTACK_SERVER_ADMIN_TOKEN", AdminToken)
            .WithPortBinding(3000, assignRandomHostPort: true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(3000).ForPath("/api/healthcheck")))
            .Build();
        await runner.StartAsync(ct);
        await server.StartAsync(ct);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30), BaseAddress = new Uri($"http://{server.Hostname}:{server.GetMappedPublicPort(3000)}") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using (var submitted = await http.PostAsJsonAsync("/api/runs",
                   new SubmitRunRequest(["seq 1 100000; sleep 60"], RunName: "chatty", LogQuotaHour: 1000), LogQuotaJson.Options))
        {
            submitted.EnsureSuccessStatusCode();
        }

        RunRow row;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        do
        {
            await Task.Delay(200);
            row = (await http.GetFromJsonAsync<RunsPage>("/api/runs", LogQuotaJson.Options))!.Runs.Single();
            Assert.True(DateTime.UtcNow < deadline, $"run still {row.Status}");
        }
        while (row.Status is not (RunStatus.Done or RunStatus.Failed or RunStatus.Terminated));

        Assert.Equal("error", row.StatusMessage);
        Assert.Equal("log quota exceeded", row.Error);
        var text = Encoding.UTF8.GetString(await http.GetByteArrayAsync("/api/runs/chatty/logs?format=text&source=job"));
        var all = string.Concat(Enumerable.Range(1, 1000).Select(i => $"{i}\n"));
        Assert.Equal(all[..(all[..1000].LastIndexOf('\n') + 1)], text);
    }
}
