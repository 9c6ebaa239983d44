using System.Net;
using System.Text.Json;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// SPEC §9, resources on <c>POST /api/runs</c>: memory as bytes or a size, kept in bytes in the job's spec; a request that
/// is no request, or that no runner can give (as its health check says), refused with 400 naming the field, nothing stored.
/// </summary>
public sealed class RunResourcesTests
{
    [SkippableFact]
    public async Task MemoryAsASize_IsKeptInBytes_InTheJobSpec_AndTheJobRunsUnderIt()
    {
        Skip.If(Environment.UserName != "root", "needs root (CI runs as root): the local runner makes memory groups");
        Skip.If(!File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"), "no cgroup v1 memory hierarchy here: the local runner cannot limit memory");
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var created = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(
            """{"run_name": "sized", "commands": ["cat /sys/fs/cgroup/memory$(grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3)/memory.limit_in_bytes"], "resources": {"memory": "64MiB", "gpus": 0}}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using (var json = JsonDocument.Parse(await created.Content.ReadAsStringAsync()))
        {
            var resources = json.RootElement.GetProperty("jobs")[0].GetProperty("job_spec").GetProperty("resources");
            Assert.Equal(64L << 20, resources.GetProperty("memory").GetInt64());
        }

        var run = await client.WaitForEndAsync("sized");
        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Equal(new JobResources(Memory: 64L << 20), run.Jobs[0].JobSpec.Resources);
        Assert.Equal($"{64L << 20}", System.Text.Encoding.UTF8.GetString(await client.GetLogsTextAsync("sized")).Trim());
    }

    [Theory]
    [InlineData("""{"cpus": 0}""", "resources.cpus must be a number of CPUs from 0.01")]
    [InlineData("""{"cpus": -1}""", "resources.cpus must be a number of CPUs from 0.01")]
    [InlineData("""{"cpus": "two"}""", "`resources.cpus` must be")]
    [InlineData("""{"memory": "lots"}""", "`resources.memory`: must be a whole number of bytes, or a size such as \"8GiB\" or \"512MiB\"; got 'lots'.")]
    [InlineData("""{"memory": 1.5}""", "`resources.memory`: must be a whole number of bytes")]
    [InlineData("""{"memory": "1KiB"}""", "resources.memory must be at least 4MiB, such as \"512MiB\" or \"8GiB\"; got 1KiB.")]
    [InlineData("""{"gpus": -1}""", "resources.gpus must be a whole number of GPUs of at least 0; got -1.")]
    [InlineData("""{"gpus": 1.5}""", "`resources.gpus` must be")]
    [InlineData("""{"gpus": 1000}""", "resources.gpus 1000 is more than any runner has: ")]
    [InlineData("""{"bogus": 1}""", "unknown field `resources.bogus`")]
    public async Task ResourcesNoRunnerCanGive_OrNoResourcesAtAll_Are400_NamingTheField_AndStoreNothing(string resources, string detail)
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative),
            ApiClient.Json($$"""{"commands": ["echo never"], "resources": {{resources}}}"""));

        Assert.Contains(detail, await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Equal(0, (await server.CountRowsAsync()).Runs);
    }

    [Fact]
    public async Task WhenNoRunnerAnswers_AResourceRequestIs503_WithRetryAfter_AndARunWithoutOneIsTaken()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" });
        using var client = server.CreateAdminClient();

        using var refused = await client.PostAsync(new Uri("/api/runs", UriKind.Relative),
            ApiClient.Json("""{"commands": ["echo later"], "resources": {"gpus": 1}}"""));
        Assert.Contains("No runner answered its health check", await ApiClient.AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
        Assert.Equal("5", refused.Headers.RetryAfter?.ToString());
        Assert.Equal(0, (await server.CountRowsAsync()).Runs);

        var plain = await client.SubmitAsync(new SubmitRunRequest(["echo later"], Resources: new JobResources()));
        Assert.Null(plain.Jobs[0].JobSpec.Resources);
    }
}
