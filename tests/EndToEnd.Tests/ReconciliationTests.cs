using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>SPEC §6 reconciliation: a runner given up on comes back, and what the server shows as ended stops running there.</summary>
public sealed class ReconciliationTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);

    // Over 60 s beside a CPU hog (81.9 s in .ci/stress): calls to the frozen runner must time out before its jobs are
    // given up (the stream's wait + 10 s, then pulls of 5 s an attempt, 20 s in all), after the resume reconciliation
    // asks on its back-off (1 s doubling to 30 s), and a runner and a server start first.
    [Fact]
    public async Task RunnerPausedPastTheTimeout_AndResumed_ItsJobsAreStoppedAndDeletedThere_AndAStopAskedMeanwhileIsDelivered()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1,
            serverSettings: new() { ["DSTACK_SERVER_RUNNER_UNREACHABLE_TIMEOUT"] = "3" });

        // Each would run for a minute and more: only a stop ends them while the test looks.
        string[] names = ["left-running", "stop-meanwhile"];
        foreach (var name in names)
        {
            await system.SubmitAsync(new SubmitRunRequest([$"echo {name} started; for i in $(seq 1 900); do echo line-$i; sleep 0.1; done"], RunName: name));
            await RunnerFaultTests.WaitForLogAsync(system, name, text => text.StartsWith($"{name} started\nline-1\n", StringComparison.Ordinal));
        }

        var jobIds = new Dictionary<string, Guid>();
        foreach (var name in names)
        {
            jobIds[name] = (await system.Server.GetFromJsonAsync<RunDetails>($"/api/runs/{name}", LogQuotaJson.Options))!.Jobs[0].JobId;
        }

        var runner = system.Runner(0);
        await SystemProcesses.SignalAsync(runner, "STOP");
        try
        {
            using (var stop = await system.Server.PostAsync(new Uri("/api/runs/stop-meanwhile/stop", UriKind.Relative), null))
            {
                Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
            }

            foreach (var name in names)
            {
                var given = await system.WaitFinishedAsync(name, Limit);
                Assert.Equal(RunStatus.Failed, given.Status);
                Assert.Equal(TerminationReason.InstanceUnreachable, given.TerminationReason);
                Assert.Equal("instance unreachable", given.Error);
                Assert.Contains(given.Events, e => e.Type == JobEventTypes.RunnerUnreachable);

                // The server shows it ended, but on the frozen runner its processes still live: this is what reconciliation is for.
                Assert.NotEmpty(SystemProcesses.ProcessesOfJob(jobIds[name]));
            }

            // Deleting the run now would drop the only record that lets the server stop the job when the runner returns.
            using var early = await system.Server.DeleteAsync(new Uri("/api/runs/left-running", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
            Assert.Contains("cannot be deleted yet", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await SystemProcesses.SignalAsync(runner, "CONT");
        }

        foreach (var name in names)
        {
            var run = await WaitForEventAsync(system, name, JobEventTypes.RunnerReturned);
            var returned = run.Events.Single(e => e.Type == JobEventTypes.RunnerReturned);
            Assert.Contains("stopped", returned.Message, StringComparison.Ordinal);
            Assert.Contains("deleted there", returned.Message, StringComparison.Ordinal);
            Assert.Equal(name == "stop-meanwhile", returned.Message.Contains("as the user asked", StringComparison.Ordinal));
            Assert.True(run.Events.ToList().FindIndex(e => e.Type == JobEventTypes.RunnerUnreachable) <
                run.Events.ToList().FindIndex(e => e.Type == JobEventTypes.RunnerReturned));

            // The server's verdict stands; the runner holds nothing of the job any more.
            Assert.Equal(RunStatus.Failed, run.Status);
            Assert.Equal(TerminationReason.InstanceUnreachable, run.TerminationReason);
            Assert.Empty(SystemProcesses.ProcessesOfJob(jobIds[name]));
            Assert.False(Directory.Exists(Path.Combine(system.RunnerDir(0), "jobs", jobIds[name].ToString("N"))), "the job's spool directory is left");
            using var runnerClient = system.RunnerClient(0);
            using var pull = await runnerClient.GetAsync(new Uri($"/api/jobs/{jobIds[name]}/pull?timestamp=0", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, pull.StatusCode);

            // What it logged before the give-up stays, in order, once.
            var text = Encoding.UTF8.GetString(await system.LogTextAsync(name));
            Assert.StartsWith($"{name} started\nline-1\n", text, StringComparison.Ordinal);
            var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).ToList();
            Assert.Equal(Enumerable.Range(1, lines.Count).Select(i => $"line-{i}"), lines);
        }

        // Reconciled, the run may go.
        using (var deleted = await system.Server.DeleteAsync(new Uri("/api/runs/left-running", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // The runner goes on with new work.
        await system.SubmitAsync(new SubmitRunRequest(["echo after the outage"], RunName: "after"));
        Assert.Equal(RunStatus.Done, (await system.WaitFinishedAsync("after", Limit)).Status);
    }

    private static async Task<RunDetails> WaitForEventAsync(SystemProcesses system, string runName, string type)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var run = (await system.Server.GetFromJsonAsync<RunDetails>($"/api/runs/{runName}", LogQuotaJson.Options))!;
            if (run.Events.Any(e => e.Type == type))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runName} has no {type} event: {string.Join("; ", run.Events.Select(e => e.Type))}\n{system.ProcessOutput}");
            await Task.Delay(200);
        }
    }
}
