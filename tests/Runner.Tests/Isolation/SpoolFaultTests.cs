using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §7, "faults of one job stay in that job": a full disk under a real runner, on a real tmpfs. The job whose log
/// fills the disk is paused (its output is no longer read), never failed; its neighbours go on.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class SpoolFaultTests
{
    [SkippableFact]
    public async Task FullDisk_PausesTheWritingJob_WithoutFailingIt_NeighboursFinishDoneWithEveryLine_RunnerAnswersThroughout()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var dir = Directory.CreateTempSubdirectory("logquota-enospc-").FullName;
        // 8 MiB: room for the runner's own files and the neighbours' first page, then the writer fills the rest.
        Privileged.Run("mount", "-t", "tmpfs", "-o", "size=8m,mode=0711", "tmpfs", dir);
        var go = Path.Combine(Path.GetTempPath(), $"logquota-enospc-go-{Guid.NewGuid():N}");
        try
        {
            await using (var runner = await RunnerHost.StartAsync(dir))
            {
                // Each neighbour stores its first line (its spool's first page), waits until the disk is full
                // and the writer has ended, then writes the rest; tmpfs keeps them in the page they hold.
                string Neighbour(string name) =>
                    $"echo {name}-1; while [ ! -e {go} ]; do sleep 0.02; done; for i in $(seq 2 20); do echo {name}-$i; done";
                var neighbours = new[] { ("tty-neighbour", true), ("pipe-neighbour", false) }
                    .Select(n => (Name: n.Item1, Id: Guid.NewGuid(), Tty: n.Item2)).ToList();
                foreach (var n in neighbours)
                {
                    await runner.Api.SubmitAsync(new SubmitBody(n.Id, new RunRef(Guid.NewGuid(), n.Name),
                        new JobSpec([Neighbour(n.Name)], Tty: n.Tty)), CancellationToken.None);
                }

                foreach (var n in neighbours)
                {
                    await WaitForTextAsync(runner, n.Id, $"{n.Name}-1\n");
                }

                // 36 MB into an 8 MiB disk with no quota: the spool write meets ENOSPC on the output thread, which
                // then stops reading, so the writer blocks on its pipe.
                var writer = Guid.NewGuid();
                await runner.Api.SubmitAsync(new SubmitBody(writer, new RunRef(Guid.NewGuid(), "writer"),
                    new JobSpec(["yes 0123456789012345678901234567890123456789012345678901234567890123456789 | head -c 36000000; sleep 60"],
                        LogQuotaHour: null, Tty: false)), CancellationToken.None);

                var stalling = runner.WaitUntilAsync(writer, r => r.Events.Exists(e => e.Type == JobEventTypes.LogStalled), "the writer's log_stalled event");
                while (!stalling.IsCompleted)
                {
                    var health = await runner.Http.GetAsync("/api/healthcheck");
                    Assert.True(health.IsSuccessStatusCode, $"runner health while the disk fills: {(int)health.StatusCode}");
                    await Task.Delay(50);
                }

                var stalled = await stalling;
                Assert.Equal(JobState.Running, stalled.States[^1].State);
                Assert.Contains("disk is full", stalled.Events.Single(e => e.Type == JobEventTypes.LogStalled).Message, StringComparison.Ordinal);

                // The neighbours' lines fit in the spool pages they hold: they finish while the writer is paused.
                await File.WriteAllTextAsync(go, string.Empty);
                foreach (var n in neighbours)
                {
                    var result = await runner.PullToEndAsync(n.Id, TimeSpan.FromSeconds(90));
                    Assert.Equal(JobState.Done, result.Final.State);
                    Assert.Equal(string.Concat(Enumerable.Range(1, 20).Select(i => $"{n.Name}-{i}\n")), result.Text);
                }

                // Still paused, never failed: a stop ends it, and what was stored before the disk filled is kept.
                Assert.Equal(JobState.Running, (await runner.WaitUntilAsync(writer, _ => true, "a pull")).States[^1].State);
                await runner.Api.StopAsync(writer, new StopBody(), CancellationToken.None);
                var stopped = await runner.PullToEndAsync(writer, TimeSpan.FromSeconds(90));
                Assert.Equal(JobState.Terminated, stopped.Final.State);
                Assert.Equal(TerminationReason.TerminatedByServer, stopped.Final.TerminationReason);
                Assert.True(stopped.Bytes.Length > 1_000_000, $"what was stored before the disk filled is kept ({stopped.Bytes.Length} bytes)");
                Assert.StartsWith("0123456789", stopped.Text, StringComparison.Ordinal);
                Assert.Contains("still full", stopped.Events.Single(e => e.Type == JobEventTypes.LogResumed).Message, StringComparison.Ordinal);

                Assert.True((await runner.Http.GetAsync("/api/healthcheck")).IsSuccessStatusCode);
            }
        }
        finally
        {
            File.Delete(go);
            Privileged.Run("umount", "-l", dir);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task WaitForTextAsync(RunnerHost runner, Guid jobId, string text)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var pull = await runner.Api.PullAsync(jobId, 0, CancellationToken.None);
            if (Encoding.UTF8.GetString(pull.JobLogs.SelectMany(l => l.Message).ToArray()).Contains(text, StringComparison.Ordinal))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} never wrote {text.Trim()}");
            await Task.Delay(20);
        }
    }
}
