using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// Runners at run time, with real server and runner processes: a runner joins while jobs run and wait, takes the oldest
/// waiting job within its capacity, a runner is drained while its jobs run on, refused removal while it holds one, and
/// removed once it holds none; every job's log is whole.
/// </summary>
public sealed class RunnersAtRunTimeTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    // Over 60 s beside a CPU hog (70.5 s measured in .ci/stress), with no long fixed wait: a server and two runners
    // start (the second joined at run time), and four jobs go through a chain of waits one after another (running, log
    // lines, four stops each ending its job, a runner released, hold counts steady over 10 polls 0.2 s apart).
    [Fact]
    public async Task RunnersJoinDrainAndLeave_WhileJobsRun_AndNoRunnerGetsMoreThanItsCapacity()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1, runnerSettings: new() { ["DSTACK_RUNNER_MAX_JOBS"] = "2" });
        var seeded = Assert.Single((await ListAsync(system)).Runners);
        Assert.Equal((RunnerState.Active, 2), (seeded.State, seeded.Capacity));
        Assert.NotNull(seeded.Isolation);

        // Four jobs that each print a line every 0.1 s until stopped: the runner takes two, two wait in order.
        string[] names = ["job-a", "job-b", "job-c", "job-d"];
        foreach (var name in names)
        {
            await system.SubmitAsync(new SubmitRunRequest([$"for i in $(seq 1 3000); do echo {name}-$i; sleep 0.1; done"], RunName: name));
        }

        await WaitForStatusAsync(system, "job-a", RunStatus.Running);
        await WaitForStatusAsync(system, "job-b", RunStatus.Running);
        Assert.Equal(RunStatus.Submitted, (await RunAsync(system, "job-c")).Status);
        Assert.Equal(RunStatus.Submitted, (await RunAsync(system, "job-d")).Status);

        // A second runner joins while they run: it takes the oldest waiting job, and only one (its capacity).
        var second = await system.StartDetachedRunnerAsync(new() { ["DSTACK_RUNNER_MAX_JOBS"] = "1" });
        using (var added = await system.Server.PostAsJsonAsync("/api/runners", new AddRunnerRequest(system.RunnerUrls[second].ToString(), "second"), LogQuotaJson.Options))
        {
            Assert.True(added.StatusCode == HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        }

        var onSecond = await WaitForStatusAsync(system, "job-c", RunStatus.Running);
        Assert.Equal(system.RunnerUrls[second].ToString(), onSecond.Jobs[0].Runner);
        await AssertHeldAsync(system, (seeded.Name, 2), ("second", 1));
        Assert.Equal(RunStatus.Submitted, (await RunAsync(system, "job-d")).Status);

        // The first runner is drained: its jobs run on, and the place a stop frees there is not filled.
        using (var drained = await system.Server.PostAsync(new Uri($"/api/runners/{seeded.Name}/drain", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, drained.StatusCode);
        }

        await StopAsync(system, "job-a");
        await AssertHeldAsync(system, (seeded.Name, 1), ("second", 1));
        Assert.Equal(RunStatus.Submitted, (await RunAsync(system, "job-d")).Status);
        await WaitForLogAsync(system, "job-b", "job-b-20\n");

        // It cannot leave while it holds job-b; once that ends, it can.
        using (var early = await system.Server.DeleteAsync(new Uri($"/api/runners/{seeded.Name}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            Assert.Contains("still holds 1 job", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await StopAsync(system, "job-b");
        await RemoveWhenEmptyAsync(system, seeded.Name);
        Assert.Equal(["second"], (await ListAsync(system)).Runners.Select(r => r.Name));

        // The job that waited goes to the runner left once its place there is free.
        await StopAsync(system, "job-c");
        var last = await WaitForStatusAsync(system, "job-d", RunStatus.Running);
        Assert.Equal(system.RunnerUrls[second].ToString(), last.Jobs[0].Runner);
        await WaitForLogAsync(system, "job-d", "job-d-5\n");
        await StopAsync(system, "job-d");

        // Every job's log is its lines in order, each once, however its runner came and went.
        foreach (var name in names)
        {
            var text = Encoding.UTF8.GetString(await system.LogTextAsync(name));
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.NotEmpty(lines);
            Assert.Equal(Enumerable.Range(1, lines.Length).Select(i => $"{name}-{i}"), lines);
        }
    }

    private static async Task AssertHeldAsync(SystemProcesses system, params (string Name, int Jobs)[] expected)
    {
        // Held over several passes (the poll interval is 0.2 s): a runner past its capacity would show within them.
        var deadline = DateTime.UtcNow + Limit;
        var steady = 0;
        while (steady < 10)
        {
            var runners = (await ListAsync(system)).Runners;
            foreach (var runner in runners)
            {
                Assert.True(runner.Capacity is null || runner.Jobs <= runner.Capacity, $"runner {runner.Name} holds {runner.Jobs} jobs, past its capacity {runner.Capacity}");
            }

            var held = expected.Select(e => (e.Name, runners.Single(r => r.Name == e.Name).Jobs)).ToArray();
            steady = held.SequenceEqual(expected) ? steady + 1 : 0;
            Assert.True(DateTime.UtcNow < deadline, $"the runners hold {string.Join(", ", held)}, not {string.Join(", ", expected)}");
            await Task.Delay(200);
        }
    }

    private static async Task RemoveWhenEmptyAsync(SystemProcesses system, string name)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            using var response = await system.Server.DeleteAsync(new Uri($"/api/runners/{name}", UriKind.Relative));
            if (response.StatusCode == HttpStatusCode.NoContent)
            {
                return;
            }

            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, $"runner {name} was never released: {await response.Content.ReadAsStringAsync()}");
            await Task.Delay(200);
        }
    }

    private static async Task StopAsync(SystemProcesses system, string name)
    {
        using var stop = await system.Server.PostAsync(new Uri($"/api/runs/{name}/stop", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        Assert.Equal(RunStatus.Terminated, (await system.WaitFinishedAsync(name, Limit)).Status);
    }

    private static async Task<RunDetails> WaitForStatusAsync(SystemProcesses system, string name, RunStatus status)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var run = await RunAsync(system, name);
            if (run.Status == status)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {name} is {run.Status}, not {status}; processes said:\n{system.ProcessOutput}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitForLogAsync(SystemProcesses system, string name, string line)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!Encoding.UTF8.GetString(await system.LogTextAsync(name)).Contains(line, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"run {name}'s log never held {line.TrimEnd()}");
            await Task.Delay(100);
        }
    }

    private static async Task<RunDetails> RunAsync(SystemProcesses system, string name) =>
        (await system.Server.GetFromJsonAsync<RunDetails>($"/api/runs/{name}", LogQuotaJson.Options))!;

    private static async Task<RunnersList> ListAsync(SystemProcesses system) =>
        (await system.Server.GetFromJsonAsync<RunnersList>("/api/runners", LogQuotaJson.Options))!;
}
