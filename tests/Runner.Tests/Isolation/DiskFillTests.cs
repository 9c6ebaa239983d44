using System.Net.Http.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §7, "the culprit pays": a job that fills the disk through its home never fails a neighbour, whose output
/// waits (backpressure) and is stored whole once space returns; with <c>DSTACK_RUNNER_JOB_DISK_MAX</c> the job that
/// passes it is killed with <c>disk_quota_exceeded</c>. Real jobs on a real tmpfs that holds the runner's directory
/// and the jobs' homes, mounted and removed by each test.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class DiskFillTests
{
    private static readonly string Pad = new('x', 100);

    [SkippableFact]
    public async Task ASilentJobFillsTheDiskThroughItsHome_NeighboursPause_ThenStoreEveryLineOnceInOrder_AndEndDone()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        await using var disk = MountedDisk.Mount("16m");
        var go = disk.Signal("go");
        var free = disk.Signal("free");
        await using var runner = await RunnerHost.StartAsync(disk.RunnerDir);

        // 200 lines of ~120 bytes each: far more than the spool page each neighbour holds after its first line.
        string Neighbour(string name) =>
            $"echo {name}-1-{Pad}; while [ ! -e {go} ]; do sleep 0.02; done; for i in $(seq 2 200); do echo {name}-$i-{Pad}; done";
        var neighbours = new[] { ("tty-neighbour", true), ("pipe-neighbour", false) }
            .Select(n => (Name: n.Item1, Id: Guid.NewGuid(), Tty: n.Item2)).ToList();
        foreach (var n in neighbours)
        {
            await runner.Api.SubmitAsync(new SubmitBody(n.Id, new RunRef(Guid.NewGuid(), n.Name), new JobSpec([Neighbour(n.Name)], Tty: n.Tty)), CancellationToken.None);
            await runner.WaitUntilAsync(n.Id, r => r.Text.StartsWith($"{n.Name}-1-", StringComparison.Ordinal), $"{n.Name}'s first line");
        }

        // Silent: head's complaint about the full disk goes to /dev/null, so the filler's own log stays empty.
        var filler = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(filler, new RunRef(Guid.NewGuid(), "filler"), new JobSpec(
            [$"head -c 64M /dev/zero > $HOME/fill 2>/dev/null; while [ ! -e {free} ]; do sleep 0.05; done; rm -f $HOME/fill"], Tty: false)), CancellationToken.None);
        await disk.WaitUntilFullAsync();

        File.WriteAllText(go, string.Empty);
        foreach (var n in neighbours)
        {
            var stalled = await runner.WaitUntilAsync(n.Id, r => r.Events.Exists(e => e.Type == JobEventTypes.LogStalled), $"{n.Name}'s log_stalled event");
            Assert.Equal(JobState.Running, stalled.States[^1].State);
            Assert.True((await runner.Http.GetAsync("/api/healthcheck")).IsSuccessStatusCode, "the runner answers while the disk is full");
        }

        File.WriteAllText(free, string.Empty);
        foreach (var n in neighbours)
        {
            var result = await runner.PullToEndAsync(n.Id, TimeSpan.FromSeconds(90));
            Assert.Equal(JobState.Done, result.Final.State);
            Assert.Equal(string.Concat(Enumerable.Range(1, 200).Select(i => $"{n.Name}-{i}-{Pad}\n")), result.Text);
            var stalls = result.Events.Where(e => e.Type is JobEventTypes.LogStalled or JobEventTypes.LogResumed).ToList();
            Assert.True(stalls.Count >= 2 && stalls.Count % 2 == 0, $"{n.Name}: each stall is followed by its end ({string.Join(", ", stalls.Select(e => e.Type))})");
            Assert.All(stalls.Where((_, i) => i % 2 == 1), e =>
            {
                Assert.Equal(JobEventTypes.LogResumed, e.Type);
                Assert.StartsWith("Space returned after", e.Message, StringComparison.Ordinal);
            });
        }

        var fill = await runner.PullToEndAsync(filler, TimeSpan.FromSeconds(90));
        Assert.Equal(JobState.Done, fill.Final.State);
        Assert.Equal("", fill.AllText);
    }

    [SkippableFact]
    public async Task AJobPastItsDiskLimit_EndsDiskQuotaExceeded_WithItsLogAndAMarker_AndItsNeighbourFinishesDone()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        const long limit = 4L << 20;
        await using var disk = MountedDisk.Mount("64m");
        var go = disk.Signal("go");
        await using var runner = await RunnerHost.StartAsync(disk.RunnerDir, jobDiskMax: limit);
        var health = (await runner.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options))!;
        Assert.Equal(limit, health.Isolation!.DiskMax);

        // The neighbour keeps 1 MiB in its home, under the limit, and goes on once the culprit has ended.
        var neighbour = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(neighbour, new RunRef(Guid.NewGuid(), "neighbour"), new JobSpec(
            [$"head -c 1M /dev/urandom > $HOME/small; echo n-1; while [ ! -e {go} ]; do sleep 0.02; done; for i in $(seq 2 20); do echo n-$i; done"])),
            CancellationToken.None);

        // fallocate takes its 16 MiB of blocks at once: no measurement catches the file half written, however slow the machine.
        var culprit = await runner.RunAsync(new JobSpec(["echo start; fallocate -l 16M $HOME/big; echo written; sleep 300"]), TimeSpan.FromSeconds(90));
        File.WriteAllText(go, string.Empty);
        var calm = await runner.PullToEndAsync(neighbour, TimeSpan.FromSeconds(90));

        Assert.Equal(JobState.Failed, culprit.Final.State);
        Assert.Equal(TerminationReason.DiskQuotaExceeded, culprit.Final.TerminationReason);
        Assert.Contains($"over its disk limit of {limit} bytes", culprit.Final.TerminationMessage, StringComparison.Ordinal);
        Assert.Equal("start\nwritten\n", culprit.Text);
        Assert.Matches(@"^\[logquota\] disk limit of 4\.0 MiB reached: the job's files take 1[67]\.\d MiB; the job is being killed\n$", culprit.RunnerText);
        var exceeded = Assert.Single(culprit.Events, e => e.Type == JobEventTypes.DiskQuotaExceeded);
        Assert.Contains($"over its disk limit of {limit} bytes", exceeded.Message, StringComparison.Ordinal);

        Assert.Equal(JobState.Done, calm.Final.State);
        Assert.Equal(string.Concat(Enumerable.Range(1, 20).Select(i => $"n-{i}\n")), calm.Text);
    }

    /// <summary>A tmpfs of its own holding the runner's directory and its work directory (the jobs' homes); unmounted on dispose.</summary>
    private sealed class MountedDisk : IAsyncDisposable
    {
        private readonly string _signals = Directory.CreateTempSubdirectory("logquota-disk-signals-").FullName;

        private MountedDisk(string path) => Path = path;

        public string Path { get; }

        /// <summary>The runner's directory; its work directory, <c>runner-work</c>, is beside it on the same tmpfs.</summary>
        public string RunnerDir => System.IO.Path.Combine(Path, "runner");

        public static MountedDisk Mount(string size)
        {
            var path = Directory.CreateTempSubdirectory("logquota-disk-").FullName;
            // 0711: jobs under their own uids pass through to their directories in the work directory.
            Privileged.Run("mount", "-t", "tmpfs", "-o", $"size={size},mode=0711", "tmpfs", path);
            var disk = new MountedDisk(path);
            Directory.CreateDirectory(disk.RunnerDir);
            Privileged.OpenToJobs(disk._signals);
            return disk;
        }

        /// <summary>A file the test creates to let a job go on, off the tmpfs, so that creating it needs no room there.</summary>
        public string Signal(string name) => System.IO.Path.Combine(_signals, name);

        public async Task WaitUntilFullAsync()
        {
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (new DriveInfo(Path).AvailableFreeSpace > 0)
            {
                Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for the filler to fill {Path} ({new DriveInfo(Path).AvailableFreeSpace} bytes free)");
                await Task.Delay(20);
            }
        }

        public ValueTask DisposeAsync()
        {
            // Lazily: a process being reaped may still hold a file open; the kernel frees the tmpfs after it.
            Privileged.Run("umount", "-l", Path);
            Directory.Delete(Path);
            Directory.Delete(_signals, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
