using LogQuota.Runner.Execution;
using LogQuota.Runner.Jobs;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.Logging.Abstractions;

namespace LogQuota.Runner.Tests;

/// <summary>
/// A job is prepared (its code unpacked) before its process exists, off the submit's path: meanwhile it has no state,
/// is pulled, and can be stopped; a preparation that fails in any way ends only that job.
/// </summary>
public sealed class JobPreparationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-prepare-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Job NewJob() => new(
        new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "prepared"), new JobSpec(["echo never"])),
        Path.Combine(_dir, Guid.NewGuid().ToString("N")), TimeProvider.System, NullLogger<Job>.Instance);

    [Fact]
    public async Task AStop_DuringThePreparation_CancelsIt_AndEndsTheJobTerminated_WithoutAProcess()
    {
        using var job = NewJob();
        using var preparing = new ManualResetEventSlim();
        var cancelled = false;
        var thread = new Thread(() => job.Start(cancellationToken =>
        {
            preparing.Set();
            cancellationToken.WaitHandle.WaitOne();
            cancelled = cancellationToken.IsCancellationRequested;
            cancellationToken.ThrowIfCancellationRequested();
            throw new InvalidOperationException("never reached");
        }));
        thread.Start();
        Assert.True(preparing.Wait(TimeSpan.FromSeconds(60)), "the preparation never began");

        var during = job.Pull(0, 1024);
        Assert.Empty(during.JobStates);
        Assert.True(during.HasMore);

        job.Stop(TerminationReason.TerminatedByUser, "not any more");
        await job.Finished.WaitAsync(TimeSpan.FromSeconds(60));
        thread.Join();

        Assert.True(cancelled);
        var states = job.Pull(0, 1024).JobStates;
        Assert.Equal([JobState.Terminating, JobState.Terminated], states.Select(s => s.State));
        Assert.Equal(TerminationReason.TerminatedByUser, states[^1].TerminationReason);
        Assert.Equal("not any more", states[^1].TerminationMessage);
    }

    [Fact]
    public async Task APreparationThatThrows_EndsTheJobFailedExecutorError_AndDoesNotEscape()
    {
        using var job = NewJob();
        job.Start(_ => throw new JobStartException("code archive entry '../x' leads outside the code directory"));
        await job.Finished.WaitAsync(TimeSpan.FromSeconds(60));
        var final = job.Pull(0, 1024).JobStates.Single();
        Assert.Equal((JobState.Failed, TerminationReason.ExecutorError), (final.State, final.TerminationReason));
        Assert.Equal("code archive entry '../x' leads outside the code directory", final.TerminationMessage);

        using var buggy = NewJob();
        buggy.Start(_ => throw new InvalidOperationException("a bug"));
        await buggy.Finished.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal("runner fault while preparing the job: a bug", buggy.Pull(0, 1024).JobStates.Single().TerminationMessage);
    }
}
