using LogQuota.Server.Data;
using LogQuota.Server.Processing;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Processing;

/// <summary>The one place a job ends: it ends only from the state it expects, and never ends a job twice.</summary>
public sealed class JobEndingTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);

    private static JobEntity Job(JobStatus status) => new()
    {
        Id = Guid.NewGuid(), Spec = new JobSpec(["true"]), Status = status, Live = "on screen"u8.ToArray(),
    };

    [Fact]
    public void AJobInTheExpectedState_Ends_WithEveryFieldOfTheEnding_AndNoLiveRegion()
    {
        var job = Job(JobStatus.Provisioning);
        Assert.True(job.TryEnd(JobEnd.StoppedBeforeStart, At, expected: JobStatus.Provisioning));
        Assert.Equal(
            (JobStatus.Terminated, TerminationReason.TerminatedByUser, "Stopped by the user before it started", At),
            (job.Status, job.TerminationReason!.Value, job.TerminationMessage!, job.FinishedAt!.Value));
        Assert.Null(job.Live);
        Assert.False(job.RunnerReleased);
    }

    [Fact]
    public void AJobInAnotherState_IsLeftAsItIs()
    {
        var job = Job(JobStatus.Running);
        Assert.False(job.TryEnd(JobEnd.StoppedBeforeStart, At, expected: JobStatus.Provisioning));
        Assert.Equal(JobStatus.Running, job.Status);
        Assert.Null(job.FinishedAt);
        Assert.NotNull(job.Live);
    }

    [Fact]
    public void AnEndedJob_IsNeverEndedAgain()
    {
        var job = Job(JobStatus.Running);
        Assert.True(job.TryEnd(JobEnd.ExecutorError("first"), At));
        Assert.False(job.TryEnd(JobEnd.ExecutorError("second"), At.AddSeconds(1)));
        Assert.Equal(("first", At), (job.TerminationMessage, job.FinishedAt!.Value));
    }

    [Fact]
    public void Release_LetsTheRunnerForgetTheJob()
    {
        var job = Job(JobStatus.Done);
        job.Release();
        Assert.True(job.RunnerReleased);
        Assert.Null(job.Live);
    }
}
