using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// One server or runner per data directory: a second process on a directory in use exits 1 with one line naming it
/// and the holder's pid, before it sweeps, binds or writes anything, and the first one's jobs run on untouched.
/// </summary>
public sealed class OneProcessPerDirectoryTests
{
    // Over 60 s once beside a CPU hog (61.1 s measured in .ci/stress), with no fixed wait but 1 s: a server with its
    // local runner starts (migrations, isolation probes), a job starts, and a second server process starts .NET and
    // gets as far as the directory lock, where it exits; each .NET start under load takes seconds to tens of seconds.
    [Fact]
    public async Task SecondServer_OnTheSameDirectory_ExitsOne_NamingTheDirectoryAndHolder_AndTheFirstServersJobRunsOn()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 0);
        var jobId = await StartSleeperAsync(system);

        // No admin token: a second server that got as far as the token file would create it.
        var second = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = system.ServerDir,
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
        });

        second.AssertOneLine(1, "DSTACK_SERVER_DIR", system.ServerDir, $"pid {system.ServerProcess.Id}", "in use");
        Assert.False(File.Exists(Path.Combine(system.ServerDir, "admin-token")), "the second server wrote a token file");
        await AssertStillRunningAsync(system, jobId);
    }

    // Over 60 s once beside a CPU hog (60.1 s measured in .ci/stress), with no fixed wait but 1 s: a runner (isolation
    // probes) and a server (migrations) start, a job starts, and a second runner process starts .NET and gets as far
    // as the directory lock, where it exits; each .NET start under load takes seconds to tens of seconds.
    [Fact]
    public async Task SecondRunner_OnTheSameDirectory_ExitsOne_NamingTheDirectoryAndHolder_AndSweepsNothing()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1);
        var jobId = await StartSleeperAsync(system);

        var second = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = system.RunnerDir(0),
            ["DSTACK_RUNNER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_RUNNER_TOKEN"] = SystemProcesses.RunnerToken,
        });

        second.AssertOneLine(1, "DSTACK_RUNNER_DIR", system.RunnerDir(0), $"pid {system.Runner(0).Id}", "in use");
        Assert.DoesNotContain("left by an earlier runner", second.Stdout, StringComparison.Ordinal);
        await AssertStillRunningAsync(system, jobId);
    }

    private static async Task<Guid> StartSleeperAsync(SystemProcesses system)
    {
        var run = await system.SubmitAsync(new SubmitRunRequest(["echo started; sleep 120"], RunName: "sleeper"));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Encoding.UTF8.GetString(await system.LogTextAsync("sleeper")) != "started\n")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the job never started; processes said:\n{system.ProcessOutput}");
            await Task.Delay(100);
        }

        return run.Jobs[0].JobId;
    }

    private static async Task AssertStillRunningAsync(SystemProcesses system, Guid jobId)
    {
        // Two poll intervals (0.2 s each) and then some: a killed job would have been reported by now.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var run = (await system.Server.GetFromJsonAsync<RunDetails>("/api/runs/sleeper", LogQuotaJson.Options))!;
        Assert.Equal(RunStatus.Running, run.Status);
        Assert.NotEmpty(SystemProcesses.ProcessesOfJob(jobId));
    }
}
