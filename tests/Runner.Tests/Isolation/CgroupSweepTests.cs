using System.Diagnostics;
using LogQuota.Runner.Isolation;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// The start-up sweep in cgroup mode: a runner process that died (SIGKILL, power loss) leaves its job groups with
/// their processes; the next runner on the same directory empties and removes them before it takes work.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class CgroupSweepTests
{
    [SkippableFact]
    public async Task StartUp_EmptiesAndRemovesTheJobGroupsAnEarlierRunnerProcessLeft()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var dir = Directory.CreateTempSubdirectory("logquota-sweep-").FullName;
        Privileged.Run("chmod", "0711", dir); // the runners' work directory is in it, and jobs run under other uids
        string basePath;
        await using (var first = await RunnerHost.StartAsync(dir + "/runner", killModeLimit: IsolationKill.Cgroup))
        {
            var isolation = first.Services.GetRequiredService<RunnerIsolation>();
            Skip.If(isolation.Info.Kill != IsolationKill.Cgroup, $"no cgroup mode here: {isolation.Description}");
            basePath = isolation.Cgroup!.Path;
        }

        // What a dead runner leaves: its group, a job group in it, and a process of the job inside, here put there by
        // the shim exactly as a job is (a stopped runner removes its groups, so they are made again as it left them).
        Directory.CreateDirectory(basePath);
        var leftover = $"{basePath}/job-{Guid.NewGuid():N}";
        Directory.CreateDirectory(leftover);
        var shim = Path.Combine(AppContext.BaseDirectory, RunnerIsolation.ShimName);
        using var orphan = Process.Start(new ProcessStartInfo(shim) { ArgumentList = { "-g", $"{leftover}/cgroup.procs", "/bin/sleep", "300" } })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (File.ReadAllText($"{leftover}/cgroup.procs").Trim() != orphan.Id.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                Assert.True(DateTime.UtcNow < deadline, "the orphan never entered its group");
                await Task.Delay(10);
            }

            await using (var second = await RunnerHost.StartAsync(dir + "/runner", killModeLimit: IsolationKill.Cgroup))
            {
                Assert.True(orphan.WaitForExit(TimeSpan.FromSeconds(90)), "the leftover job's process survived the start-up sweep");
                Assert.False(Directory.Exists(leftover), $"{leftover} was not removed");
            }

            Assert.False(Directory.Exists(basePath), $"{basePath} outlived the runner");
        }
        finally
        {
            if (!orphan.HasExited)
            {
                orphan.Kill();
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public async Task JobGroup_HasPidsMax_WhereThePidsControllerIsOffered()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        await using var runner = await RunnerHost.StartAsync(killModeLimit: IsolationKill.Cgroup);
        var isolation = runner.Services.GetRequiredService<RunnerIsolation>();
        Skip.If(isolation.Info.Kill != IsolationKill.Cgroup, $"no cgroup mode here: {isolation.Description}");
        Skip.If(!isolation.Cgroup!.PidsEnabled, $"cgroup mode without pids.max here: {isolation.Cgroup.PidsNote}");

        var jobId = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "pids"), new JobSpec(["echo in; sleep 300"], Tty: false)),
            CancellationToken.None);
        var group = $"{isolation.Cgroup.Path}/job-{jobId:N}";
        Assert.Equal("4096", File.ReadAllText($"{group}/pids.max").Trim()); // DSTACK_RUNNER_JOB_PIDS_MAX's default
        await runner.Api.StopAsync(jobId, new StopBody(), CancellationToken.None);
        await runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(90));
    }
}
