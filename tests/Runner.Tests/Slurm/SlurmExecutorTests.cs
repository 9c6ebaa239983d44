using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Slurm;

/// <summary>
/// The Slurm executor on a real one-node cluster (<c>.ci/slurm.sh</c>): quota, screen, stop, time limit, pending,
/// Slurm's own endings. After each, Slurm's queue is empty and no process of the job is left on the node.
/// </summary>
[Collection(OneSlurmCluster.Name)]
public sealed class SlurmExecutorTests
{
    private static readonly TimeSpan Generous = TimeSpan.FromSeconds(90);

    [SkippableFact]
    public async Task QuotaKill_EndsTheSlurmJobAtOnce_WithLogQuotaExceeded_AndKeepsThePartialLog()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var result = await runner.RunAsync(
            new JobSpec(["i=0; while true; do i=$((i+1)); echo \"line $i of a job that writes too much\"; done"], LogQuotaHour: 1000), Generous);

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.Equal("Job log output exceeded the hourly quota of 1000 bytes", result.Final.TerminationMessage);
        Assert.InRange(result.Bytes.Length, 1, 1000);
        Assert.StartsWith("line 1 of a job that writes too much\n", result.Text, StringComparison.Ordinal);
        Assert.Contains(result.Events, e => e.Type == JobEventTypes.SlurmStarted);
        await SlurmCluster.AssertNothingLeftAsync(result.JobId);
    }

    [SkippableFact]
    public async Task NestedTqdm_UnderSrunPty_IsStoredOnceInItsFinalState()
    {
        using var cluster = SlurmCluster.Require();
        Skip.IfNot(File.Exists("/usr/bin/python3") && SlurmCluster.Run("/usr/bin/python3", "-c", "import tqdm").Length == 0, "needs /usr/bin/python3 with tqdm (python3-tqdm)");
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        const string script = "import time\nfrom tqdm import tqdm\nfor i in tqdm(range(3), desc='outer'):\n    for j in tqdm(range(50), desc='inner', leave=False):\n        time.sleep(0.002)\nprint('done')";
        var result = await runner.RunAsync(new JobSpec([$"/usr/bin/python3 -c \"{script}\""]), Generous);

        Assert.Equal(JobState.Done, result.Final.State);
        var lines = result.Text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines, l => l.StartsWith("outer", StringComparison.Ordinal));
        Assert.Contains("3/3", lines.Single(l => l.StartsWith("outer", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.StartsWith("inner", StringComparison.Ordinal));
        Assert.Equal("done", lines[^1]);
        await SlurmCluster.AssertNothingLeftAsync(result.JobId);
    }

    [SkippableFact]
    public async Task APipeJob_GetsStdoutAndStderrInOrder_AndItsExitStatus()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var result = await runner.RunAsync(new JobSpec(["echo out; echo err >&2; echo out again; exit 3"], Tty: false), Generous);

        Assert.Equal("out\nerr\nout again\n", result.Text);
        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.ContainerExitedWithError, result.Final.TerminationReason);
        Assert.Equal(3, result.Final.ExitStatus);
        await SlurmCluster.AssertNothingLeftAsync(result.JobId);
    }

    [SkippableFact]
    public async Task Stop_EndsTheSlurmJob_Terminated()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var jobId = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "stopped"), new JobSpec(["echo started; sleep 300"])), CancellationToken.None);
        await runner.WaitUntilAsync(jobId, r => r.Text.Contains("started", StringComparison.Ordinal), "the job's first line");

        await runner.Api.StopAsync(jobId, new StopBody(TerminationReason.TerminatedByUser, "Stopped by the user"), CancellationToken.None);
        var result = await runner.PullToEndAsync(jobId, Generous);

        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal(TerminationReason.TerminatedByUser, result.Final.TerminationReason);
        await SlurmCluster.AssertNothingLeftAsync(jobId);
    }

    // Over 60 s by nature: Slurm's time limit is whole minutes (--time 1 is the least), and slurmctld checks limits on
    // its own period, so the job ends a minute or a little more after it starts.
    [SkippableFact]
    public async Task MaxDuration_BecomesTheSlurmTimeLimit_AndEndsTheJob()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var jobId = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "bounded"), new JobSpec(["echo started; sleep 300"], MaxDuration: 60)), CancellationToken.None);
        await runner.WaitUntilAsync(jobId, r => r.Text.Contains("started", StringComparison.Ordinal), "the job's first line");

        Assert.EndsWith("|1:00", SlurmCluster.Find(jobId), StringComparison.Ordinal);
        var result = await runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(150));
        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal(TerminationReason.MaxDurationExceeded, result.Final.TerminationReason);
        await SlurmCluster.AssertNothingLeftAsync(jobId);
    }

    // Over 60 s by nature, as above: the site's limit is a whole minute at the least.
    [SkippableFact]
    public async Task SlurmTimeLimit_OfTheSite_EndsTheJob_AsMaxDurationExceeded_NamingTimeout()
    {
        using var cluster = SlurmCluster.Require();
        // No max_duration of the run: only the site's --time ends it, so the ending is Slurm's own TIMEOUT.
        await using var runner = await RunnerHost.StartAsync(slurm: ["--time=1"]);
        var result = await runner.RunAsync(new JobSpec(["echo started; sleep 300"]), TimeSpan.FromSeconds(180));

        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal(TerminationReason.MaxDurationExceeded, result.Final.TerminationReason);
        Assert.Contains("TIMEOUT", result.Final.TerminationMessage, StringComparison.Ordinal);
        await SlurmCluster.AssertNothingLeftAsync(result.JobId);
    }

    [SkippableFact]
    public async Task MoreCpusThanTheNodeHas_StaysPending_WithSlurmsReasonShown_AndCanBeStopped()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var jobId = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "too-big"),
            new JobSpec(["echo never"], Resources: new JobResources(Cpus: 64))), CancellationToken.None);

        var pending = await runner.WaitUntilAsync(jobId, r => r.Events.Any(e => e.Type == JobEventTypes.SlurmPending), "Slurm's pending reason");
        var slurmJobId = SlurmCluster.IdOf(jobId);
        var note = pending.Events.First(e => e.Type == JobEventTypes.SlurmPending).Message;
        Assert.Equal($"Slurm job {slurmJobId} is pending: PartitionConfig", note);
        Assert.Empty(pending.States); // no state yet: the server shows the job provisioning

        await runner.Api.StopAsync(jobId, new StopBody(TerminationReason.TerminatedByUser, "Stopped by the user"), CancellationToken.None);
        var result = await runner.PullToEndAsync(jobId, Generous);
        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal("", result.Text);
        await SlurmCluster.AssertNothingLeftAsync(jobId);
    }

    [SkippableFact]
    public async Task MemoryOverItsLimit_EndsTheJob_OutOfMemory_ThroughSlurmsCgroup()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var result = await runner.RunAsync(new JobSpec(["echo started; /usr/bin/python3 -c 'x = bytearray(400 << 20); print(len(x))'"],
            Resources: new JobResources(Memory: 64L << 20)), Generous);

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.OutOfMemory, result.Final.TerminationReason);
        Assert.StartsWith("started\n", result.Text, StringComparison.Ordinal);
        await SlurmCluster.AssertNothingLeftAsync(result.JobId);
    }

    [SkippableFact]
    public async Task ScancelFromOutside_EndsTheJob_AsExecutorError_NamingCancelled()
    {
        using var cluster = SlurmCluster.Require();
        await using var runner = await RunnerHost.StartAsync(slurm: []);
        var jobId = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "cancelled"), new JobSpec(["echo started; sleep 300"])), CancellationToken.None);
        await runner.WaitUntilAsync(jobId, r => r.Text.Contains("started", StringComparison.Ordinal), "the job's first line");

        var slurmJobId = SlurmCluster.IdOf(jobId);
        SlurmCluster.Run("scancel", slurmJobId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var result = await runner.PullToEndAsync(jobId, Generous);

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.ExecutorError, result.Final.TerminationReason);
        Assert.Equal($"Slurm ended job {slurmJobId}: CANCELLED (cancelled outside LogQuota)", result.Final.TerminationMessage);
        Assert.StartsWith("started\n", result.Text, StringComparison.Ordinal);
        await SlurmCluster.AssertNothingLeftAsync(jobId);
    }
}
