using LogQuota.Runner.Jobs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests;

/// <summary>
/// A job's timer whose body throws ends that job, never the runner: an exception escaping a timer callback ends the
/// process, and with it every job on the runner. Every job timer (stop, quota kill grace, max duration, disk) is made by
/// <see cref="JobFaults.StartTimer"/>.
/// </summary>
public sealed class JobFaultsTests
{
    [Fact]
    public void AQuotaKillGraceTimer_WhoseBodyThrows_EndsItsJob_AndNothingEscapesTheTimer()
    {
        var time = new FakeTimeProvider();
        var jobId = Guid.NewGuid();
        var endedWith = new List<string>();
        using var timer = JobFaults.StartTimer(time, TimeSpan.FromSeconds(5), NullLogger.Instance, jobId, "quota-kill",
            () => throw new InvalidOperationException("the kill failed"), endedWith.Add);

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(endedWith);

        // FakeTimeProvider runs due callbacks inside Advance: an unguarded body's exception would come out of it here.
        var escaped = Record.Exception(() => time.Advance(TimeSpan.FromSeconds(1)));

        Assert.Null(escaped);
        Assert.Equal(["runner fault in the job's quota-kill work: the kill failed"], endedWith);
    }

    [Fact]
    public void EndingTheJob_ThatThrowsToo_IsLogged_AndStillNothingEscapes()
    {
        var time = new FakeTimeProvider();
        using var timer = JobFaults.StartTimer(time, TimeSpan.FromSeconds(1), NullLogger.Instance, Guid.NewGuid(), "stop",
            () => throw new InvalidOperationException("first"), _ => throw new InvalidOperationException("second"));

        Assert.Null(Record.Exception(() => time.Advance(TimeSpan.FromSeconds(1))));
    }
}
