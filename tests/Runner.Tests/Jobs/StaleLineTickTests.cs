using System.Text;
using LogQuota.Runner.Jobs;
using LogQuota.Runner.Logs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Jobs;

/// <summary>
/// SPEC §2: a held line is stored once it has not changed for 30 s, from the registry's one-second tick: a job that was
/// silent for long still has its next held line stored on time. A real process, a fake clock.
/// </summary>
public sealed class StaleLineTickTests : IDisposable
{
    private readonly FakeClockRegistry _runner = new("logquota-stale-tick-");

    public void Dispose() => _runner.Dispose();

    [Fact]
    public async Task AHeldLine_IsStoredWhenStale_AlsoAfterTheJobWasSilentForLong()
    {
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "stale"),
            new JobSpec(["printf first; while [ ! -e go.1 ]; do sleep 0.02; done; printf '\\nsecond'; while [ ! -e go.2 ]; do sleep 0.02; done"],
                WorkingDir: _runner.Dir, Tty: false));
        var job = _runner.Registry.Submit(body).Job!;

        await WaitForLiveAsync(job, "first");
        _runner.Time.Advance(StoringRule.StaleAfter + TimeSpan.FromSeconds(2));
        await WaitForStoredAsync(job, "first");

        // Ten silent minutes, a tick every second: none has anything to do.
        for (var i = 0; i < 600; i++)
        {
            _runner.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await File.WriteAllTextAsync(Path.Combine(_runner.Dir, "go.1"), string.Empty);
        await WaitForLiveAsync(job, "second");
        Assert.DoesNotContain("second", Stored(job), StringComparison.Ordinal);
        _runner.Time.Advance(StoringRule.StaleAfter + TimeSpan.FromSeconds(2));
        await WaitForStoredAsync(job, "second");

        await File.WriteAllTextAsync(Path.Combine(_runner.Dir, "go.2"), string.Empty);
        await job.Finished.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal("first\nsecond\n", Stored(job));
    }

    private static string Stored(Job job) =>
        Encoding.UTF8.GetString(job.Pull(0, int.MaxValue).JobLogs.Where(l => l.LogSource == LogSource.Stdout).SelectMany(l => l.Message).ToArray());

    private static async Task WaitForStoredAsync(Job job, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!Stored(job).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for '{text}' to be stored; stored: '{Stored(job)}'");
            await Task.Delay(20);
        }
    }

    private static async Task WaitForLiveAsync(Job job, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (job.Pull(0, int.MaxValue).Live is not { } live || !Encoding.UTF8.GetString(live).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for '{text}' in the live region; job state {job.State}");
            await Task.Delay(20);
        }
    }
}
