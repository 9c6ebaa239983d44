using System.Diagnostics;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace LogQuota.Runner.Tests;

/// <summary>The registry's part in a runner's shutdown and restart, on real processes.</summary>
public sealed class RegistryShutdownTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-registry-shutdown-").FullName;

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        if (Directory.Exists(RunnerHost.WorkDirOf(_dir)))
        {
            Directory.Delete(RunnerHost.WorkDirOf(_dir), recursive: true);
        }
    }

    private JobRegistry NewRegistry() => new(new RunnerSettings { Dir = _dir, WorkDir = RunnerHost.WorkDirOf(_dir) }, TimeProvider.System, NullLoggerFactory.Instance);

    private static SubmitBody Body(string command) =>
        new(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "shutdown"), new JobSpec([command], Tty: false));

    [Fact]
    public async Task StopTakingWork_RefusesNewJobs_ButAnswersAKnownJobsResubmitAsBefore()
    {
        using var registry = NewRegistry();
        var known = Body("sleep 30");
        Assert.Equal(SubmitOutcome.Started, registry.Submit(known).Outcome);

        registry.StopTakingWork();

        var (outcome, job) = registry.Submit(Body("echo too late"));
        Assert.Equal(SubmitOutcome.ShuttingDown, outcome);
        Assert.Null(job);
        Assert.Equal(SubmitOutcome.AlreadyKnown, registry.Submit(known).Outcome);
        Assert.Equal(1, registry.Count);

        await registry.StopAllAsync("Runner is shutting down");
        var final = registry.Find(known.JobId)!.Pull(0, int.MaxValue).JobStates[^1];
        Assert.Equal((JobState.Terminated, TerminationReason.TerminatedByServer, "Runner is shutting down"),
            (final.State, final.TerminationReason, final.TerminationMessage));
    }

    [Fact]
    public async Task WaitUntilEmpty_ReturnsOnceTheLastJobIsDeleted_OrFalseAfterThePeriod()
    {
        using var registry = NewRegistry();
        var (_, job) = registry.Submit(Body("true"));
        await job!.Finished.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.False(await registry.WaitUntilEmptyAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None));

        var drained = registry.WaitUntilEmptyAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.False(drained.IsCompleted);
        Assert.True(registry.TryDelete(job));
        Assert.True(await drained.WaitAsync(TimeSpan.FromSeconds(90)));
    }

    [Fact]
    public void EndLeftoversOfEarlierProcess_KillsTheOrphanedProcessesOfItsJobs_AndRemovesTheirDirectories()
    {
        // An earlier runner on this directory held a job, then died: its directory remains, and a process of the job
        // lives on, reparented, recognisable only by the marker in its environment.
        var jobId = Guid.NewGuid();
        var leftover = Path.Combine(_dir, "jobs", jobId.ToString("N"));
        Directory.CreateDirectory(leftover);
        var orphan = new ProcessStartInfo("sleep", "60") { UseShellExecute = false };
        orphan.Environment["DSTACK_JOB_ID"] = jobId.ToString();
        using var survivor = Process.Start(orphan)!;
        using var bystander = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        try
        {
            using var registry = NewRegistry();

            Assert.Equal(jobId, Assert.Single(registry.EndLeftoversOfEarlierProcess()));

            Assert.True(survivor.WaitForExit(90_000), "the orphaned process of the job is still alive");
            Assert.False(Directory.Exists(leftover));
            Assert.False(bystander.HasExited, "a process that is not the job's was killed");
        }
        finally
        {
            survivor.Kill();
            bystander.Kill();
        }
    }
}
