using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// SPEC §7, memory: under memory pressure the kernel kills a job, never the server or the runner. The server lowers
/// its <c>oom_score_adj</c> to -900, each job starts at +800.
/// </summary>
public sealed class OomOrderTests
{
    [SkippableFact]
    public async Task MemoryBomb_UnderALimitOnServerRunnerAndJobs_KillsAJobProcess_NeverTheServer_AndTheNeighbourCompletes()
    {
        Skip.If(Environment.UserName != "root", "needs root: only root may lower the server's oom_score_adj and create a memory cgroup");
        var parent = MemoryGroup.Parent();
        Skip.If(parent is null, "no cgroup v1 memory hierarchy is mounted at /sys/fs/cgroup/memory: no memory limit can be set here");

        // Made before the system, so that it is removed after the system's processes are gone.
        using var group = MemoryGroup.Create(parent!);

        // The server with its local runner, as the README's first command starts it: one process for both.
        await using var system = await SystemProcesses.StartAsync(runners: 0);
        // -900 where the server may lower it (CAP_SYS_RESOURCE); a sandbox that drops the capability keeps it at 0.
        var serverScore = int.Parse(File.ReadAllText($"/proc/{system.ServerProcess.Id}/oom_score_adj").Trim(), CultureInfo.InvariantCulture);
        Assert.Equal(HasCapSysResource() ? -900 : 0, serverScore);

        // The server and every job it starts from now on share one limit: the server's usage plus 600 MiB.
        group.Enter(system.ServerProcess.Id);
        group.Limit(group.Usage() + (600L << 20));

        await system.SubmitAsync(new SubmitRunRequest(["for i in $(seq 1 40); do echo n-$i; sleep 0.25; done"], RunName: "neighbour"));

        // Fourteen processes of 100 MiB each (dd's block buffer, held while its write to a sleeping reader blocks).
        await system.SubmitAsync(new SubmitRunRequest(
            ["cat /proc/self/oom_score_adj; for i in $(seq 1 14); do dd if=/dev/zero bs=100M count=1 2>/dev/null | sleep 20 & done; wait"],
            RunName: "bomb"));

        var neighbour = await system.WaitFinishedAsync("neighbour", TimeSpan.FromMinutes(3));
        var bomb = await system.WaitFinishedAsync("bomb", TimeSpan.FromMinutes(3));

        Assert.False(system.ServerProcess.HasExited, "the server (and its local runner) must outlive the memory bomb");
        using var health = await system.Server.GetAsync("/api/healthcheck");
        Assert.True(health.IsSuccessStatusCode, $"server health after the bomb: {(int)health.StatusCode}");
        Assert.True(group.OomKills() > 0, "the bomb never met the limit: the test proved nothing");
        Assert.Equal(RunStatus.Done, neighbour.Status);
        Assert.Equal(string.Concat(Enumerable.Range(1, 40).Select(i => $"n-{i}\n")), Encoding.UTF8.GetString(await system.LogTextAsync("neighbour")));
        Assert.StartsWith("800\n", Encoding.UTF8.GetString(await system.LogTextAsync("bomb")));
        Assert.NotEqual(RunStatus.Running, bomb.Status);
    }

    /// <summary>CAP_SYS_RESOURCE (bit 24) in this process's effective set, which the server inherits.</summary>
    private static bool HasCapSysResource()
    {
        var line = File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return (ulong.Parse(line["CapEff:".Length..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << 24)) != 0;
    }

    /// <summary>A cgroup v1 memory group below the test's own, removed (after its processes are gone) on dispose.</summary>
    private sealed class MemoryGroup : IDisposable
    {
        private const string Root = "/sys/fs/cgroup/memory";

        private MemoryGroup(string path) => Path = path;

        private string Path { get; }

        /// <summary>The test process's own memory group, where a child group may be made; null without the v1 hierarchy.</summary>
        public static string? Parent()
        {
            if (!File.Exists(System.IO.Path.Combine(Root, "memory.limit_in_bytes")))
            {
                return null;
            }

            var line = File.ReadAllLines("/proc/self/cgroup").FirstOrDefault(l => l.Split(':')[1].Split(',').Contains("memory"));
            return line is null ? null : Root + line.Split(':', 3)[2].TrimEnd('/');
        }

        public static MemoryGroup Create(string parent)
        {
            var path = System.IO.Path.Combine(parent, $"logquota-oom-test-{Guid.NewGuid():N}");
            Directory.CreateDirectory(path);
            return new MemoryGroup(path);
        }

        public void Enter(int pid) => File.WriteAllText(System.IO.Path.Combine(Path, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));

        public long Usage() => long.Parse(File.ReadAllText(System.IO.Path.Combine(Path, "memory.usage_in_bytes")).Trim(), CultureInfo.InvariantCulture);

        public void Limit(long bytes)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, "memory.limit_in_bytes"), bytes.ToString(CultureInfo.InvariantCulture));
            var swap = System.IO.Path.Combine(Path, "memory.memsw.limit_in_bytes");
            if (File.Exists(swap))
            {
                // With swap the bomb would page out instead of meeting the limit.
                File.WriteAllText(swap, bytes.ToString(CultureInfo.InvariantCulture));
            }
        }

        /// <summary>The kernel's count of OOM kills in the group (<c>oom_kill</c> in memory.oom_control).</summary>
        public long OomKills() =>
            File.ReadAllLines(System.IO.Path.Combine(Path, "memory.oom_control"))
                .Select(l => l.Split(' '))
                .Where(f => f[0] == "oom_kill")
                .Select(f => long.Parse(f[1], CultureInfo.InvariantCulture))
                .FirstOrDefault();

        public void Dispose()
        {
            // The system is disposed first (its processes killed): wait until the group is empty, then remove it.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (File.ReadAllText(System.IO.Path.Combine(Path, "cgroup.procs")).Trim().Length > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }

            try
            {
                Directory.Delete(Path);
            }
            catch (IOException)
            {
                // Still populated past the deadline: .ci/run's sweep of empty groups does not reach it; say so.
                Console.Error.WriteLine($"OomOrderTests: {Path} could not be removed: processes are still in it");
            }
        }
    }
}
