using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.Formatting;

public sealed class RunSummaryTests
{
    [Fact]
    public void Done_ExitsZero()
    {
        var run = Row(RunStatus.Done, "exited (0)", exitStatus: 0);
        Assert.Equal("run train-1 done: exited (0)", RunSummary.Format(run));
        Assert.Equal(0, RunSummary.ExitCode(run));
    }

    [Fact]
    public void FailedJob_ExitsWithTheJobsExitCode()
    {
        var run = Row(RunStatus.Failed, "exited (3)", exitStatus: 3, reason: TerminationReason.ContainerExitedWithError);
        Assert.Equal("run train-1 failed: exited (3)", RunSummary.Format(run));
        Assert.Equal(3, RunSummary.ExitCode(run));
    }

    [Fact]
    public void QuotaKill_NamesTheErrorAndTheMessage_AndExitsOne()
    {
        var run = Row(
            RunStatus.Failed, "error", error: "log quota exceeded", reason: TerminationReason.LogQuotaExceeded,
            message: "Job log output exceeded the hourly quota of 1024 bytes");
        Assert.Equal(
            "run train-1 failed: log quota exceeded (Job log output exceeded the hourly quota of 1024 bytes)",
            RunSummary.Format(run));
        Assert.Equal(1, RunSummary.ExitCode(run));
    }

    [Fact]
    public void Stopped_ExitsOne()
    {
        var run = Row(RunStatus.Terminated, "stopped", reason: TerminationReason.TerminatedByUser);
        Assert.Equal("run train-1 terminated: stopped", RunSummary.Format(run));
        Assert.Equal(1, RunSummary.ExitCode(run));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-9)]
    [InlineData(256)]
    public void ExitStatusThatIsNoProcessExitCode_ExitsOne(int exitStatus) =>
        Assert.Equal(1, RunSummary.ExitCode(Row(RunStatus.Failed, $"exited ({exitStatus})", exitStatus: exitStatus)));

    private static RunRow Row(
        RunStatus status, string statusMessage, string? error = null, TerminationReason? reason = null, string? message = null, int? exitStatus = null) =>
        new("train-1", status, statusMessage, error, reason, message, exitStatus, DateTimeOffset.UnixEpoch, null, 1024, 0);
}
