using LogQuota.Server.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Metrics;

public sealed class IngestLagTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 5, 0, 0, TimeSpan.Zero));

    [Fact]
    public void WithoutActiveJobs_IsZero() => Assert.Equal(0, new IngestLag(_time).Seconds());

    [Fact]
    public void ACaughtUpJob_LagsByTheTimeSinceItsLastPull()
    {
        var lag = new IngestLag(_time);
        lag.Pulled(Guid.NewGuid(), caughtUp: true, newestEvent: 0);

        _time.Advance(TimeSpan.FromSeconds(42));

        Assert.Equal(42, lag.Seconds(), precision: 3);
    }

    [Fact]
    public void AJobWithMoreToPull_LagsByItsNewestStoredEvent_AndTheOldestJobCounts()
    {
        var lag = new IngestLag(_time);
        var behind = Guid.NewGuid();
        lag.Pulled(behind, caughtUp: false, newestEvent: (_time.GetUtcNow() - TimeSpan.FromSeconds(90)).ToUnixTimeMilliseconds());
        lag.Pulled(Guid.NewGuid(), caughtUp: true, newestEvent: 0);

        Assert.Equal(90, lag.Seconds(), precision: 3);

        // A later page that is older than what was stored (a runner clock behind ours) never moves the point back.
        lag.Pulled(behind, caughtUp: true, newestEvent: 0);
        lag.Pulled(behind, caughtUp: false, newestEvent: (_time.GetUtcNow() - TimeSpan.FromSeconds(500)).ToUnixTimeMilliseconds());
        Assert.Equal(0, lag.Seconds(), precision: 3);
    }

    [Fact]
    public void AJobThatEnded_IsForgotten()
    {
        var lag = new IngestLag(_time);
        var ended = Guid.NewGuid();
        var running = Guid.NewGuid();
        lag.Pulled(ended, caughtUp: true, newestEvent: 0);
        _time.Advance(TimeSpan.FromSeconds(100));
        lag.Pulled(running, caughtUp: true, newestEvent: 0);
        Assert.Equal(100, lag.Seconds(), precision: 3);

        lag.Forget([ended]);

        Assert.Equal(0, lag.Seconds(), precision: 3);
        lag.Forget([running]);
        Assert.Equal(0, lag.Seconds());
    }
}
