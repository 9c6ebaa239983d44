using LogQuota.Server.Processing;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Processing;

/// <summary>One test per row of the SPEC §4 mapping table.</summary>
public sealed class JobStatusMappingTests
{
    [Fact]
    public void Done_IsDone_ExitedZero()
    {
        Assert.Equal(JobStatus.Done, JobStatusMapping.FromRunnerState(JobState.Done));
        Assert.Equal(new StatusView("exited (0)", null), JobStatusMapping.Describe(JobStatus.Done, null, 0));
        Assert.Equal(RunStatus.Done, JobStatusMapping.ToRunStatus(JobStatus.Done));
    }

    [Theory]
    [InlineData(TerminationReason.ContainerExitedWithError)]
    [InlineData(null)]
    public void FailedWithExitStatus_IsFailed_ExitedN(TerminationReason? reason)
    {
        Assert.Equal(JobStatus.Failed, JobStatusMapping.FromRunnerState(JobState.Failed));
        Assert.Equal(new StatusView("exited (3)", null), JobStatusMapping.Describe(JobStatus.Failed, reason, 3));
        Assert.Equal(RunStatus.Failed, JobStatusMapping.ToRunStatus(JobStatus.Failed));
    }

    [Fact]
    public void FailedLogQuotaExceeded_IsFailed_Error_LogQuotaExceeded() =>
        Assert.Equal(new StatusView("error", "log quota exceeded"), JobStatusMapping.Describe(JobStatus.Failed, TerminationReason.LogQuotaExceeded, null));

    [Fact]
    public void FailedExecutorError_IsFailed_Error_ExecutorError() =>
        Assert.Equal(new StatusView("error", "executor error"), JobStatusMapping.Describe(JobStatus.Failed, TerminationReason.ExecutorError, null));

    [Fact]
    public void TerminatedMaxDuration_IsTerminated_MaxDurationExceeded()
    {
        Assert.Equal(JobStatus.Terminated, JobStatusMapping.FromRunnerState(JobState.Terminated));
        Assert.Equal(new StatusView("terminated", "max duration exceeded"), JobStatusMapping.Describe(JobStatus.Terminated, TerminationReason.MaxDurationExceeded, null));
        Assert.Equal(RunStatus.Terminated, JobStatusMapping.ToRunStatus(JobStatus.Terminated));
    }

    [Fact]
    public void TerminatedByUser_IsTerminated_Stopped() =>
        Assert.Equal(new StatusView("stopped", null), JobStatusMapping.Describe(JobStatus.Terminated, TerminationReason.TerminatedByUser, null));

    [Fact]
    public void TerminatedByServer_AsWhenItsRunnerShutsDown_IsTerminated_WithTheReasonLeftToTheMessage() =>
        Assert.Equal(new StatusView("terminated", null), JobStatusMapping.Describe(JobStatus.Terminated, TerminationReason.TerminatedByServer, null));

    [Fact]
    public void OutOfMemory_IsFailed_Error_OutOfMemory() =>
        Assert.Equal(new StatusView("error", "out of memory"), JobStatusMapping.Describe(JobStatus.Failed, TerminationReason.OutOfMemory, 137));

    [Fact]
    public void DiskQuotaExceeded_IsFailed_Error_DiskQuotaExceeded()
    {
        Assert.Equal(new StatusView("error", "disk quota exceeded"), JobStatusMapping.Describe(JobStatus.Failed, TerminationReason.DiskQuotaExceeded, 137));
        Assert.Equal(RunStatus.Failed, JobStatusMapping.ToRunStatus(JobStatusMapping.FromRunnerState(JobState.Failed)));
    }

    [Fact]
    public void InstanceUnreachable_IsFailed_Error_InstanceUnreachable() =>
        Assert.Equal(new StatusView("error", "instance unreachable"), JobStatusMapping.Describe(JobStatus.Failed, TerminationReason.InstanceUnreachable, null));

    [Theory]
    [InlineData(JobState.Running, JobStatus.Running, RunStatus.Running, "running")]
    [InlineData(JobState.Terminating, JobStatus.Terminating, RunStatus.Terminating, "terminating")]
    public void NonFinalRunnerStates_MapToTheSameJobStatus(JobState state, JobStatus status, RunStatus runStatus, string message)
    {
        Assert.Equal(status, JobStatusMapping.FromRunnerState(state));
        Assert.Equal(runStatus, JobStatusMapping.ToRunStatus(status));
        Assert.Equal(new StatusView(message, null), JobStatusMapping.Describe(status, null, null));
    }

    [Fact]
    public void WaitingJobs_AreSubmittedRuns_AsInDstack()
    {
        Assert.Equal(RunStatus.Submitted, JobStatusMapping.ToRunStatus(JobStatus.Submitted));
        Assert.Equal(RunStatus.Submitted, JobStatusMapping.ToRunStatus(JobStatus.Provisioning));
    }

    [Fact]
    public void EveryRunnerStateAndReason_HasAView()
    {
        foreach (var state in Enum.GetValues<JobState>())
        {
            var status = JobStatusMapping.FromRunnerState(state);
            foreach (var reason in Enum.GetValues<TerminationReason>().Cast<TerminationReason?>().Append(null))
            {
                var view = JobStatusMapping.Describe(status, reason, null);
                Assert.False(string.IsNullOrWhiteSpace(view.StatusMessage));
            }
        }
    }
}
