using System.Collections;
using LogQuota.Runner.Api;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Slurm;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Slurm;

/// <summary>The executor's settings, Slurm's endings in LogQuota's terms, and the partition check at submit: no cluster needed.</summary>
public sealed class SlurmSettingsTests
{
    private static RunnerSettings Read(params (string Name, string Value)[] vars) =>
        RunnerSettings.FromEnvironment((IDictionary)vars.ToDictionary(v => v.Name, v => (object)v.Value));

    [Fact]
    public void Executor_IsLocalByDefault_AndSlurmWithItsArgsAndPartitions_WhenSet()
    {
        Assert.Equal(RunnerExecutor.Local, Read().Executor);

        var settings = Read(("DSTACK_RUNNER_EXECUTOR", "slurm"), ("DSTACK_RUNNER_SLURM_ARGS", " --account=ml  --qos normal "), ("DSTACK_RUNNER_SLURM_PARTITIONS", "debug, short,debug"));

        Assert.Equal(RunnerExecutor.Slurm, settings.Executor);
        Assert.Equal(["--account=ml", "--qos", "normal"], settings.SlurmArgs);
        Assert.Equal(["debug", "short"], settings.SlurmPartitions);
    }

    [Theory]
    [InlineData("DSTACK_RUNNER_EXECUTOR", "kubernetes", "DSTACK_RUNNER_EXECUTOR must be local or slurm, got 'kubernetes'")]
    [InlineData("DSTACK_RUNNER_SLURM_ARGS", "rm -rf /", "DSTACK_RUNNER_SLURM_ARGS must be Slurm options separated by spaces, such as '--account=ml --qos=normal', without quotes, got 'rm -rf /'")]
    [InlineData("DSTACK_RUNNER_SLURM_ARGS", "--comment='a b'", "DSTACK_RUNNER_SLURM_ARGS must be Slurm options separated by spaces, such as '--account=ml --qos=normal', without quotes, got '--comment='a b''")]
    [InlineData("DSTACK_RUNNER_SLURM_PARTITIONS", "gpu;rm", "DSTACK_RUNNER_SLURM_PARTITIONS must be a comma-separated list of Slurm partition names, got 'gpu;rm'")]
    public void ABadSetting_IsRefused_WithOneLineNamingItAndItsValue(string name, string value, string message)
    {
        var e = Assert.Throws<SettingsException>(() => Read((name, value)));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("TIMEOUT", "", JobState.Terminated, TerminationReason.MaxDurationExceeded, "Max duration exceeded: Slurm ended job 12 at its time limit (TIMEOUT)")]
    [InlineData("OUT_OF_MEMORY", "", JobState.Failed, TerminationReason.OutOfMemory, "Slurm killed job 12 for passing its memory limit (OUT_OF_MEMORY)")]
    [InlineData("RUNNING", "srun: error: node1: task 0: Out Of Memory\n", JobState.Failed, TerminationReason.OutOfMemory, "Slurm killed job 12 for passing its memory limit (OUT_OF_MEMORY)")]
    [InlineData("NODE_FAIL", "", JobState.Failed, TerminationReason.ExecutorError, "Slurm ended job 12: NODE_FAIL")]
    [InlineData("PREEMPTED", "", JobState.Failed, TerminationReason.ExecutorError, "Slurm ended job 12: PREEMPTED")]
    [InlineData("CANCELLED", "", JobState.Failed, TerminationReason.ExecutorError, "Slurm ended job 12: CANCELLED (cancelled outside LogQuota)")]
    public void SlurmsOwnEnding_MapsToLogQuotasReason(string state, string srunErrors, JobState expected, TerminationReason reason, string message)
    {
        Assert.Equal(new Execution.ExternalEnding(expected, reason, message), SlurmEndings.Of(12, state, srunErrors));
    }

    [Theory]
    [InlineData("RUNNING", "srun: error: node1: task 0: Exited with exit code 3\n")]
    [InlineData(null, "")]
    public void AStepThatEndedOnItsOwn_OrAnUnknownState_LeavesTheExitStatusToDecide(string? state, string srunErrors)
    {
        Assert.Null(SlurmEndings.Of(12, state, srunErrors));
    }

    [Fact]
    public void ScontrolsLine_GivesItsFields()
    {
        const string line = "JobId=12 JobName=logquota-x UserId=root(0) JobState=TIMEOUT Reason=TimeLimit Dependency=(null)";
        Assert.Equal("TIMEOUT", SlurmEndings.Field(line, "JobState"));
        Assert.Equal("TimeLimit", SlurmEndings.Field(line, "Reason"));
        Assert.Null(SlurmEndings.Field(line, "Partition"));
    }

    [Theory]
    [InlineData(null, "job_spec.resources.partition: this runner does not run jobs through Slurm, so it cannot place one in partition 'gpu'.")]
    [InlineData(new[] { "debug", "short" }, "job_spec.resources.partition: 'gpu' is not one of this runner's partitions (debug, short).")]
    [InlineData(new string[0], "job_spec.resources.partition: 'gpu' is not one of this runner's partitions (none are allowed).")]
    public void APartitionNotAllowed_IsRefusedAtSubmit_NamingTheAllowedOnes(string[]? partitions, string message)
    {
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "run"), new JobSpec(["true"], Resources: new JobResources(Partition: "gpu")));

        Assert.Equal(message, SubmitValidation.Validate(body, SlurmExecutor.Capacity, partitions));
        Assert.Null(SubmitValidation.Validate(body with { JobSpec = body.JobSpec with { Resources = new JobResources(Partition: "short") } }, SlurmExecutor.Capacity, ["short"]));
    }
}
