using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Tests.Runners;

/// <summary>
/// Runners at run time, against real runners: the list, adding one only once it answers with the shared token, drain and
/// remove (409 while it holds a job), one runner however its address is written, and its capacity never exceeded.
/// </summary>
public sealed class RunnersApiTests
{
    [Fact]
    public async Task TheLocalRunner_IsListed_WithItsCapacityIsolationAndIdentity_AndCannotBeDrainedOrRemoved()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_RUNNER_MAX_JOBS"] = "3" });
        using var client = server.CreateAdminClient();

        var local = Assert.Single((await ListAsync(client)).Runners);
        Assert.Equal("local", local.Name);
        Assert.Equal(RunnerState.Active, local.State);
        Assert.Equal(3, local.Capacity);
        Assert.Equal(0, local.Jobs);
        Assert.NotNull(local.Isolation);
        Assert.Matches("^[0-9a-f]{32}$", local.RunnerId);

        using var drain = await client.PostAsync(new Uri("/api/runners/local/drain", UriKind.Relative), null);
        Assert.Contains("lives and dies with this server", await ApiClient.AssertProblemAsync(drain, HttpStatusCode.Conflict), StringComparison.Ordinal);
        using var remove = await client.DeleteAsync(new Uri("/api/runners/local", UriKind.Relative));
        await ApiClient.AssertProblemAsync(remove, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task AddingARunner_IsRefused_InTheUsersWords_UntilItAnswersWithTheSharedToken()
    {
        await using var wrongToken = await InProcessRunner.StartAsync(token: "another-runner-token-98765");
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_RUNNER_TOKEN"] = InProcessRunner.Token });
        using var client = server.CreateAdminClient();

        var refusals = new (object Body, HttpStatusCode Status, string Says)[]
        {
            (new { url = "not a url" }, HttpStatusCode.BadRequest, "base URL"),
            (new { url = "ftp://10.0.0.5:10999" }, HttpStatusCode.BadRequest, "base URL"),
            (new { url = "http://127.0.0.1:9/?x=1" }, HttpStatusCode.BadRequest, "without a query"),
            (new { url = "http://127.0.0.1:9", name = "Bad Name" }, HttpStatusCode.BadRequest, "must match"),
            (new { url = "http://127.0.0.1:9", name = "local" }, HttpStatusCode.BadRequest, "not be 'local'"),
            (new { url = "http://127.0.0.1:9", colour = "red" }, HttpStatusCode.BadRequest, "colour"),
            (new { url = "http://127.0.0.1:9" }, HttpStatusCode.UnprocessableEntity, "did not answer"),
            (new { url = wrongToken.BaseUrl }, HttpStatusCode.UnprocessableEntity, "refused this server's runner token"),
        };
        foreach (var (body, status, says) in refusals)
        {
            using var response = await client.PostAsync(new Uri("/api/runners", UriKind.Relative), ApiClient.Json(body));
            Assert.Contains(says, await ApiClient.AssertProblemAsync(response, status), StringComparison.Ordinal);
        }

        using (var notJson = await client.PostAsync(new Uri("/api/runners", UriKind.Relative), new StringContent("url=x")))
        {
            await ApiClient.AssertProblemAsync(notJson, HttpStatusCode.UnsupportedMediaType);
        }

        foreach (var (method, path) in new[] { (HttpMethod.Post, "/api/runners/nobody/drain"), (HttpMethod.Delete, "/api/runners/nobody") })
        {
            using var response = await client.SendAsync(new HttpRequestMessage(method, new Uri(path, UriKind.Relative)));
            Assert.Contains("no runner named 'nobody'", await ApiClient.AssertProblemAsync(response, HttpStatusCode.NotFound), StringComparison.Ordinal);
        }

        // Nothing refused was stored.
        Assert.Equal(["local"], (await ListAsync(client)).Runners.Select(r => r.Name));
    }

    [Fact]
    public async Task OneRunner_UnderTwoAddresses_IsOneRunner_ForAddingAndForSeeding()
    {
        await using var runner = await InProcessRunner.StartAsync(maxJobs: 2);
        using var dir = new TempDirectory();
        var viaIp = $"http://127.0.0.1:{runner.Port}/";
        var viaName = $"http://localhost:{runner.Port}/";
        string runnerId;
        await using (var server = Remote(dir.Path, viaIp))
        {
            using var client = server.CreateAdminClient();
            var seeded = Assert.Single((await ListAsync(client)).Runners);
            Assert.Equal(viaIp, seeded.Url);
            Assert.Equal($"runner-127-0-0-1-{runner.Port}", seeded.Name);
            Assert.Equal(2, seeded.Capacity);
            runnerId = seeded.RunnerId!;

            using var again = await client.PostAsync(new Uri("/api/runners", UriKind.Relative), ApiClient.Json(new { url = viaName, name = "other-name" }));
            Assert.Contains(seeded.Name, await ApiClient.AssertProblemAsync(again, HttpStatusCode.Conflict), StringComparison.Ordinal);
        }

        // A server (or another replica) given the other spelling finds the stored runner, and its jobs go there.
        await using (var server = Remote(dir.Path, viaName))
        {
            using var client = server.CreateAdminClient();
            var stored = Assert.Single((await ListAsync(client)).Runners);
            Assert.Equal((viaIp, runnerId), (stored.Url, stored.RunnerId));

            await client.SubmitAsync(new SubmitRunRequest(["echo one runner"], RunName: "spelled"));
            var run = await client.WaitForEndAsync("spelled");
            Assert.Equal(RunStatus.Done, run.Status);
            Assert.Equal(viaIp, run.Jobs[0].Runner);
        }
    }

    [Fact]
    public async Task ARunnersCapacity_IsNeverExceeded_AndJobsPastIt_WaitSubmitted_InOrder()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_RUNNER_MAX_JOBS"] = "1" });
        using var client = server.CreateAdminClient();
        string[] names = ["first", "second", "third"];
        foreach (var name in names)
        {
            await client.SubmitAsync(new SubmitRunRequest([$"echo {name} started; sleep 600"], RunName: name));
        }

        foreach (var (running, waiting) in new[] { ("first", new[] { "second", "third" }), ("second", ["third"]), ("third", []) })
        {
            await client.WaitForAsync(running, r => r.Status == RunStatus.Running);

            // Many passes later (the poll interval is 0.1 s), the ones after it still wait.
            await WaitForLocalJobsAsync(client, 1);
            foreach (var name in waiting)
            {
                Assert.Equal(RunStatus.Submitted, (await client.GetRunAsync(name)).Status);
            }

            using var stop = await client.PostAsync(new Uri($"/api/runs/{running}/stop", UriKind.Relative), null);
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
            Assert.Equal(RunStatus.Terminated, (await client.WaitForEndAsync(running)).Status);
        }
    }

    private static async Task WaitForLocalJobsAsync(HttpClient client, int jobs)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        for (var seen = 0; seen < 10; seen++)
        {
            var local = (await ListAsync(client)).Runners.Single(r => r.Name == "local");
            Assert.True(local.Jobs <= local.Capacity, $"runner local holds {local.Jobs} jobs, past its capacity {local.Capacity}");
            Assert.True(DateTime.UtcNow < deadline, $"runner local still holds {local.Jobs} jobs, not {jobs}");
            if (local.Jobs != jobs)
            {
                seen = -1;
            }

            await Task.Delay(100);
        }
    }

    private static ServerFactory Remote(string dir, string runners) => new(
        new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = runners, ["DSTACK_RUNNER_TOKEN"] = InProcessRunner.Token }, dir);

    private static async Task<RunnersList> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<RunnersList>(new Uri("/api/runners", UriKind.Relative), LogQuotaJson.Options))!;
}
