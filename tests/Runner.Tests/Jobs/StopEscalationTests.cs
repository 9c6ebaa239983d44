using System.Text;
using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>SIGTERM → SIGKILL escalation driven by a fake clock, on a real process that ignores SIGTERM.</summary>
public sealed class StopEscalationTests : IDisposable
{
    private readonly FakeClockRegistry _runner = new("logquota-escalation-");

    public void Dispose() => _runner.Dispose();

    [Fact]
    public async Task MaxDuration_SendsSigterm_ThenSigkillAfterTheGracePeriod_WhenTheJobIgnoresSigterm()
    {
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "stubborn"),
            new JobSpec(["trap 'echo got-term' TERM; echo armed; while true; do sleep 0.1; done"], MaxDuration: 60));
        var job = _runner.Registry.Submit(body).Job!;
        await WaitForAsync(job, "armed\n");

        _runner.Time.Advance(TimeSpan.FromSeconds(60));
        await WaitForAsync(job, "got-term\n");
        Assert.False(job.Finished.IsCompleted, "a job that traps SIGTERM must survive until the grace period ends");

        _runner.Time.Advance(Job.StopGracePeriod);
        await job.Finished.WaitAsync(TimeSpan.FromSeconds(90));

        var final = job.Pull(0, int.MaxValue).JobStates[^1];
        Assert.Equal(JobState.Terminated, final.State);
        Assert.Equal(TerminationReason.MaxDurationExceeded, final.TerminationReason);
    }

    [Fact]
    public async Task LogQuota_ResetsAtTheHour_SoAJobSpanningThreeHoursStoresThreeQuotas()
    {
        // Two 9-byte lines per hour against a 25-byte quota: 54 bytes in all, so the job survives
        // only because the count resets at each hour of the fake clock.
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "hourly"),
            new JobSpec(["for h in 1 2 3; do echo \"hour-$h-a\"; echo \"hour-$h-b\"; while [ ! -e go.$h ]; do sleep 0.02; done; done"],
                WorkingDir: _runner.Dir, LogQuotaHour: 25, Tty: false));
        var job = _runner.Registry.Submit(body).Job!;
        for (var hour = 1; hour <= 3; hour++)
        {
            await WaitForAsync(job, $"hour-{hour}-b\n");
            Assert.Equal(18, job.Pull(0, int.MaxValue).LogBytesHour);
            _runner.Time.Advance(TimeSpan.FromHours(1));
            await File.WriteAllTextAsync(Path.Combine(_runner.Dir, $"go.{hour}"), string.Empty);
        }

        await job.Finished.WaitAsync(TimeSpan.FromSeconds(90));
        var pull = job.Pull(0, int.MaxValue);
        Assert.Equal(JobState.Done, pull.JobStates[^1].State);
        Assert.Equal("hour-1-a\nhour-1-b\nhour-2-a\nhour-2-b\nhour-3-a\nhour-3-b\n",
            Encoding.UTF8.GetString(pull.JobLogs.SelectMany(l => l.Message).ToArray()));
    }

    [Fact]
    public async Task Truncate_DropsForTheRestOfTheHour_ThenStoresAgainInTheNext()
    {
        // 25-byte quota, three 9-byte lines an hour: the third is dropped, and reported when the hour ends.
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "truncating"),
            new JobSpec(["for h in 1 2; do echo \"hour-$h-a\"; echo \"hour-$h-b\"; echo \"hour-$h-c\"; while [ ! -e go.$h ]; do sleep 0.02; done; done"],
                WorkingDir: _runner.Dir, LogQuotaHour: 25, Tty: false, LogQuotaAction: LogQuotaAction.Truncate, LogQuotaWarnAt: []));
        var job = _runner.Registry.Submit(body).Job!;
        await WaitForAsync(job, "output is dropped until");
        // The third line read and dropped in the first hour, before the clock moves on (else it would count in the next).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (job.Pull(0, int.MaxValue).LogQuota!.DroppedBytes < 9)
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for the third line to be read and dropped");
            await Task.Delay(20);
        }

        Assert.Equal(18, job.Pull(0, int.MaxValue).LogBytesHour);

        _runner.Time.Advance(TimeSpan.FromHours(1)); // the registry's tick ends the bucket although the job is silent
        await WaitForAsync(job, "output is stored again");
        await File.WriteAllTextAsync(Path.Combine(_runner.Dir, "go.1"), string.Empty);
        await WaitForAsync(job, "hour-2-b\n");
        await File.WriteAllTextAsync(Path.Combine(_runner.Dir, "go.2"), string.Empty);
        await job.Finished.WaitAsync(TimeSpan.FromSeconds(90));

        var pull = job.Pull(0, int.MaxValue);
        Assert.Equal(JobState.Done, pull.JobStates[^1].State);
        Assert.Equal("hour-1-a\nhour-1-b\nhour-2-a\nhour-2-b\n",
            Encoding.UTF8.GetString(pull.JobLogs.Where(l => l.LogSource == LogSource.Stdout).SelectMany(l => l.Message).ToArray()));
        var runner = Encoding.UTF8.GetString(pull.JobLogs.Where(l => l.LogSource == LogSource.Runner).SelectMany(l => l.Message).ToArray());
        var reports = runner.Split('\n').Where(l => l.Contains("were dropped", StringComparison.Ordinal)).ToList();
        Assert.Equal(["[logquota] 9 bytes (1 lines) were dropped; they follow", "[logquota] 9 bytes (1 lines) were dropped; they follow"], reports);
        Assert.Contains("they follow\nhour-1-c\n", runner, StringComparison.Ordinal);
        Assert.Contains("they follow\nhour-2-c\n", runner, StringComparison.Ordinal);
        Assert.Equal(18, pull.LogQuota!.DroppedBytes);
    }

    [Fact]
    public async Task KillGrace_SigtermFirst_SigkillWhenTheGraceEnds_OnTheFakeClock()
    {
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "graceful"),
            new JobSpec(["trap 'echo got-term > term.txt' TERM; while true; do echo spam; sleep 0.01; done"],
                WorkingDir: _runner.Dir, LogQuotaHour: 100, Tty: false, LogQuotaKillGrace: 120, LogQuotaWarnAt: []));
        var job = _runner.Registry.Submit(body).Job!;
        var termFile = Path.Combine(_runner.Dir, "term.txt");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!File.Exists(termFile))
        {
            Assert.True(DateTime.UtcNow < deadline, "the job never got SIGTERM at the crossing");
            await Task.Delay(20);
        }

        await Task.Delay(300);
        Assert.False(job.Finished.IsCompleted, "a job that traps SIGTERM lives on until its grace ends");

        _runner.Time.Advance(TimeSpan.FromSeconds(120));
        await job.Finished.WaitAsync(TimeSpan.FromSeconds(90));
        var final = job.Pull(0, int.MaxValue).JobStates[^1];
        Assert.Equal(TerminationReason.LogQuotaExceeded, final.TerminationReason);
        Assert.Equal("Job log output exceeded the hourly quota of 100 bytes", final.TerminationMessage);
    }

    private static async Task WaitForAsync(Job job, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!Encoding.UTF8.GetString(job.Pull(0, int.MaxValue).JobLogs.SelectMany(l => l.Message).ToArray()).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"timed out waiting for '{text.TrimEnd()}'; job state {job.State}, states: {string.Join(", ", job.Pull(0, 0).JobStates)}");
            await Task.Delay(20);
        }
    }
}
