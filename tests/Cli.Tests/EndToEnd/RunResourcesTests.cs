using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary><c>run --cpus --memory --gpus</c> against the real server and its embedded runner: the job runs under the limits asked, and what no runner can give is one line.</summary>
[Collection(LocalServerGroup.Name)]
public sealed class RunResourcesTests(LocalServer server)
{
    [SkippableFact]
    public async Task Run_WithCpusAndMemory_RunsTheJobUnderThoseLimits()
    {
        Skip.If(Environment.UserName != "root", "needs root (CI runs as root): the runner makes cgroup v1 groups");
        Skip.If(!File.Exists("/sys/fs/cgroup/memory/memory.limit_in_bytes") || !File.Exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"),
            "no cgroup v1 memory and cpu hierarchies at /sys/fs/cgroup/memory and /sys/fs/cgroup/cpu here");

        // The job reads its own groups' limits.
        var result = await CliProcess.RunAsync(server.CliEnvironment, "run", "--name", "e2e-limits", "--no-tty", "--cpus", "0.5", "--memory", "64MiB", "--",
            "cat /sys/fs/cgroup/memory$(grep -E '^[0-9]+:memory:' /proc/self/cgroup | cut -d: -f3)/memory.limit_in_bytes " +
            "/sys/fs/cgroup/cpu$(grep -E '^[0-9]+:cpu:' /proc/self/cgroup | cut -d: -f3)/cpu.cfs_quota_us");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"{64 << 20}\n50000\n", result.StdoutText);
    }

    [Fact]
    public async Task Run_AskingMoreGpusThanAnyRunnerHas_IsOneLine_AndExitsOne()
    {
        var result = await CliProcess.RunAsync(server.CliEnvironment, "run", "--name", "e2e-gpus", "--no-code", "--gpus", "1000", "--", "echo never");

        Assert.True(result.ExitCode == 1, result.ToString());
        var line = Assert.Single(result.StderrLines);
        Assert.Contains("resources.gpus 1000 is more than any runner has: ", line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }
}
