using System.Text;
using LogQuota.Runner.Quota;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests.Quota;

public sealed class HourlyLogQuotaTests
{
    private static readonly TimeSpan OneTick = TimeSpan.FromTicks(1);

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Fit_ExactlyTheLimit_FitsWholeAndThenNothing()
    {
        var quota = new HourlyLogQuota(100, _time);

        Assert.Equal(100, quota.Fit(100));
        quota.Consume(100);

        Assert.Equal(0, quota.Fit(1));
        Assert.Equal(100, quota.BytesThisHour);
    }

    [Fact]
    public void Fit_OneByteOverTheLimit_LeavesTheLastByteOut()
    {
        var quota = new HourlyLogQuota(100, _time);

        Assert.Equal(100, quota.Fit(101));

        quota.Consume(60);

        Assert.Equal(40, quota.Fit(41));
        Assert.Equal(40, quota.Fit(40));
    }

    [Fact]
    public void Exceeding_CutsAtTheLastWholeLine_WhenTheBucketEndsOnALine()
    {
        var quota = new HourlyLogQuota(10, _time);
        quota.Consume("ab\n"u8);
        byte[] pending = Encoding.UTF8.GetBytes("cd\nefgh\nij\n");

        int allowed = quota.Fit(pending.Length);
        int stored = QuotaCut.Cut(pending, allowed, quota.MayCutMidLine);

        Assert.Equal(7, allowed);
        Assert.Equal(3, stored);
        quota.Consume(pending.AsSpan(0, stored));
        Assert.Equal(6, quota.BytesThisHour);
        Assert.False(quota.MayCutMidLine);
    }

    [Fact]
    public void Exceeding_InAnEmptyBucket_CutsBeforeAThreeByteCharacterStraddlingTheLimit()
    {
        var quota = new HourlyLogQuota(5, _time);
        byte[] pending = Encoding.UTF8.GetBytes("abc€");

        int allowed = quota.Fit(pending.Length);
        int stored = QuotaCut.Cut(pending, allowed, quota.MayCutMidLine);

        // '€' takes bytes 3..5; the limit falls after byte 4, inside it.
        Assert.Equal(5, allowed);
        Assert.Equal(3, stored);
    }

    [Fact]
    public void Exceeding_WithALineLongerThanTheRoomLeft_StoresNothingAfterAWholeLine()
    {
        var quota = new HourlyLogQuota(10, _time);
        quota.Consume("ok\n"u8);
        byte[] pending = Encoding.UTF8.GetBytes("a much longer line\n");

        Assert.Equal(0, QuotaCut.Cut(pending, quota.Fit(pending.Length), quota.MayCutMidLine));
    }

    [Fact]
    public void MayCutMidLine_FollowsWhatTheBucketEndsWith()
    {
        var quota = new HourlyLogQuota(100, _time);
        Assert.True(quota.MayCutMidLine);

        quota.Consume("line\n"u8);
        Assert.False(quota.MayCutMidLine);

        quota.Consume(ReadOnlySpan<byte>.Empty);
        Assert.False(quota.MayCutMidLine);

        quota.Consume("part"u8);
        Assert.True(quota.MayCutMidLine);

        quota.Consume("ial\n"u8);
        Assert.False(quota.MayCutMidLine);

        quota.Consume(3);
        Assert.True(quota.MayCutMidLine);

        quota.Consume("\n"u8);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.True(quota.MayCutMidLine);
    }

    [Fact]
    public void Bucket_OneTickBeforeTheHour_IsStillTheFirst_AndExactlyAtTheHourIsTheNext()
    {
        var quota = new HourlyLogQuota(10, _time);
        quota.Consume(10);

        _time.Advance(TimeSpan.FromHours(1) - OneTick);

        Assert.Equal(0, quota.BucketIndex);
        Assert.Equal(10, quota.BytesThisHour);
        Assert.Equal(0, quota.Fit(1));

        _time.Advance(OneTick);

        Assert.Equal(1, quota.BucketIndex);
        Assert.Equal(0, quota.BytesThisHour);
        Assert.Equal(10, quota.Fit(10));
    }

    [Fact]
    public void Bucket_IsMeasuredFromConstruction_NotFromTheClocksOrigin()
    {
        _time.Advance(TimeSpan.FromMinutes(40));
        var quota = new HourlyLogQuota(10, _time);
        quota.Consume(4);

        _time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(0, quota.BucketIndex);
        Assert.Equal(4, quota.BytesThisHour);

        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, quota.BucketIndex);
        Assert.Equal(0, quota.BytesThisHour);
    }

    [Fact]
    public void LongJob_SpanningThreeHours_GetsAFreshQuotaEachHour()
    {
        var quota = new HourlyLogQuota(1000, _time);

        _time.Advance(TimeSpan.FromMinutes(10));
        quota.Consume(700);
        Assert.Equal(300, quota.Fit(1000));

        _time.Advance(TimeSpan.FromMinutes(50));
        Assert.Equal(1, quota.BucketIndex);
        Assert.Equal(1000, quota.Fit(1000));
        quota.Consume(1000);
        Assert.Equal(0, quota.Fit(1));

        _time.Advance(TimeSpan.FromMinutes(59) + TimeSpan.FromSeconds(59));
        Assert.Equal(1, quota.BucketIndex);
        Assert.Equal(0, quota.Fit(1));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, quota.BucketIndex);
        Assert.Equal(1000, quota.Fit(1000));
        quota.Consume(3);

        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(2, quota.BucketIndex);
        Assert.Equal(3, quota.BytesThisHour);

        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.Equal(3, quota.BucketIndex);
        Assert.Equal(0, quota.BytesThisHour);
    }

    [Fact]
    public void Bucket_AfterAQuietStretchOfSeveralHours_JumpsStraightToTheCurrentOne()
    {
        var quota = new HourlyLogQuota(10, _time);
        quota.Consume(10);

        _time.Advance(TimeSpan.FromHours(5) + TimeSpan.FromMinutes(30));

        Assert.Equal(5, quota.BucketIndex);
        Assert.Equal(10, quota.Fit(10));
    }

    [Fact]
    public void ReportingBucket_StaysOnTheFirstBucketThatEnded_UntilItsOwnerMovesToTheCurrentOne()
    {
        var quota = new HourlyLogQuota(10, _time);
        Assert.False(quota.ReportingBucketEnded);

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(1, quota.BucketIndex);
        _time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(3, quota.BucketIndex);

        Assert.True(quota.ReportingBucketEnded);
        Assert.Equal(0, quota.ReportingBucket);

        quota.MoveToCurrentBucket();

        Assert.False(quota.ReportingBucketEnded);
        Assert.Equal(3, quota.ReportingBucket);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(0L)]
    [InlineData(-1L)]
    public void Unlimited_FitsEverythingAndStillCounts(long? limit)
    {
        var quota = new HourlyLogQuota(limit, _time);

        quota.Consume(int.MaxValue);
        quota.Consume(5);

        Assert.Null(quota.Limit);
        Assert.Equal(int.MaxValue, quota.Fit(int.MaxValue));
        Assert.Equal((long)int.MaxValue + 5, quota.BytesThisHour);
        Assert.True(quota.MayCutMidLine);
    }

    [Fact]
    public void Limit_AboveIntMaxValue_FitsAWholeIntCount()
    {
        var quota = new HourlyLogQuota(10L * 1024 * 1024 * 1024, _time);
        quota.Consume(int.MaxValue);

        Assert.Equal(10L * 1024 * 1024 * 1024, quota.Limit);
        Assert.Equal(int.MaxValue, quota.Fit(int.MaxValue));
    }

    [Fact]
    public void Fit_OfANegativeCount_Throws()
    {
        var quota = new HourlyLogQuota(10, _time);

        Assert.Throws<ArgumentOutOfRangeException>(() => quota.Fit(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => quota.Consume(-1));
    }
}
