using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>What the real processes log: one line per event worth telling, no stack traces for expected failures.</summary>
public sealed class QuietLogTests
{
    // Over 60 s beside a CPU hog (107.3 s in .ci/stress on 2279ac3), with no fixed wait: a runner and a server start as
    // real processes (migrations, isolation probes), and after the runner's kill the server must log two failed calls,
    // each given up only after its resilience pipeline's three retries (0.5 s backoff, up to 20 s a call).
    [Fact]
    public async Task DeadRunner_EachFailedCall_IsOneWarningLine_WithoutAStack()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1,
            serverSettings: new() { ["DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT"] = "30" });
        await system.SubmitAsync(new SubmitRunRequest(["echo up; sleep 600"], RunName: "abandoned"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Encoding.UTF8.GetString(await system.LogTextAsync("abandoned")) != "up\n")
        {
            Assert.True(DateTime.UtcNow < deadline, "the job never started");
            await Task.Delay(100);
        }

        system.Runner(0).Kill(entireProcessTree: true);
        var failures = 0;
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (failures < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the server never reported the dead runner:\n{system.ProcessOutput}");
            await Task.Delay(500);
            failures = system.ProcessOutput.Split('\n').Count(l => l.Contains("did not answer for job", StringComparison.Ordinal));
        }

        var output = system.ProcessOutput;
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Polly", output, StringComparison.Ordinal);
        var line = output.Split('\n').First(l => l.Contains("did not answer for job", StringComparison.Ordinal));
        Assert.Contains("HttpRequestException: Connection refused", line, StringComparison.Ordinal);
    }

    // Over 60 s beside a CPU hog (60.9 s in .ci/stress on 9915f14), with no fixed wait: a runner and a server start as
    // real processes at the Information level (each start's migrations and isolation probes) for one short job.
    [Fact]
    public async Task BothServices_ReportTheSameVersion_AndTheRunnerLogsNoRequestLines()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1,
            serverSettings: new() { ["Logging__LogLevel__Default"] = "Information" },
            runnerSettings: new() { ["Logging__LogLevel__Default"] = "Information" });
        var run = await system.SubmitAsync(new SubmitRunRequest(["echo hi"], RunName: "versions"));
        await system.WaitFinishedAsync(run.RunName);

        var server = (await system.Server.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;
        using var runnerClient = system.RunnerClient(0);
        var runner = (await runnerClient.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;

        Assert.Equal(server.Version, runner.Version);
        Assert.Matches(@"^\d+\.\d+\.\d+$", server.Version);
        Assert.DoesNotContain("Request starting", system.ProcessOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Request finished", system.ProcessOutput, StringComparison.Ordinal);
    }
}
