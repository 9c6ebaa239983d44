using System.Text;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests.Quota;

public sealed class QuotaPolicyTests
{
    private static readonly byte[] Line = "0123456789abcdefghi\n"u8.ToArray(); // 20 bytes

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 2, 14, 0, 0, TimeSpan.Zero));
    private readonly RecordingOutput _output = new();

    private QuotaPolicy Policy(long? limit, LogQuotaAction action, int[]? warnAt = null, int graceSeconds = 0) =>
        new(limit, action, warnAt, TimeSpan.FromSeconds(graceSeconds), _time);

    private QuotaVerdict OfferLines(QuotaPolicy policy, int lines)
    {
        var verdict = QuotaVerdict.Continue;
        for (var i = 0; i < lines && verdict == QuotaVerdict.Continue; i++)
        {
            verdict = policy.Offer(Line, _output);
        }

        return verdict;
    }

    [Fact]
    public void Warning_IsWrittenOncePerThreshold_AsAMarkerAndAnEvent()
    {
        var policy = Policy(1000, LogQuotaAction.Kill, [50, 80]);

        OfferLines(policy, 45); // 900 bytes: past 50 % and 80 %, under the quota

        Assert.Equal(2, _output.Markers.Count);
        Assert.StartsWith("[logquota] warning: 50% of the log quota used: 500 of 1000 bytes", _output.Markers[0], StringComparison.Ordinal);
        Assert.StartsWith("[logquota] warning: 80% of the log quota used: 800 of 1000 bytes", _output.Markers[1], StringComparison.Ordinal);
        Assert.Equal([JobEventTypes.LogQuotaWarning, JobEventTypes.LogQuotaWarning], _output.Events.Select(e => e.Type));
        Assert.Equal(900, _output.StdoutBytes);
        Assert.Equal(900, policy.BytesThisHour); // markers are never counted
    }

    [Fact]
    public void Warnings_ComeAgainInTheNextBucket_NotBefore()
    {
        var policy = Policy(1000, LogQuotaAction.Kill, [80]);
        OfferLines(policy, 45);
        _time.Advance(TimeSpan.FromMinutes(59));
        OfferLines(policy, 1); // 920: same bucket, already warned
        Assert.Single(_output.Events);

        _time.Advance(TimeSpan.FromMinutes(1));
        OfferLines(policy, 45);

        Assert.Equal(2, _output.Events.Count(e => e.Type == JobEventTypes.LogQuotaWarning));
        Assert.Equal(900, policy.BytesThisHour);
    }

    [Fact]
    public void Warning_GivesTheTimeToExhaustion_AtTheLastMinutesRate()
    {
        var policy = Policy(12_000, LogQuotaAction.Kill, [80]);

        // 100 bytes per second for two minutes: 12 000 bytes... so at the 96th second 9 600 bytes are used (80 %).
        for (var second = 0; second < 96; second++)
        {
            policy.Offer(Encoding.ASCII.GetBytes(new string('x', 99) + "\n"), _output);
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Remaining 2 400 bytes at 100 B/s over the last minute: 24 s.
        var warning = Assert.Single(_output.Events);
        Assert.Contains("at the last minute's rate (100 B/s) it is exhausted in 24 s", warning.Message, StringComparison.Ordinal);
        Assert.Contains("the quota resets at 15:00:00 UTC", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TimeToExhaustion_IsRemainingOverRate_AndNullWithoutOutput()
    {
        Assert.Equal(TimeSpan.FromSeconds(24), QuotaPolicy.TimeToExhaustion(2400, 100));
        Assert.Equal(TimeSpan.Zero, QuotaPolicy.TimeToExhaustion(-5, 100));
        Assert.Null(QuotaPolicy.TimeToExhaustion(2400, 0));
        Assert.Equal(TimeSpan.FromDays(1), QuotaPolicy.TimeToExhaustion(long.MaxValue, 1e-9));
    }

    [Fact]
    public void HugeQuota_NeverOverflowsIntoAWarning()
    {
        var policy = Policy(long.MaxValue, LogQuotaAction.Kill, [80]);

        OfferLines(policy, 1000);

        Assert.Empty(_output.Events);
        Assert.Equal(20_000, policy.BytesThisHour);
    }

    [Fact]
    public void OutputRate_CountsOnlyTheTrailingMinute()
    {
        var rate = new OutputRate();
        rate.Add(6000, TimeSpan.FromSeconds(10)); // a burst long before
        rate.Add(600, TimeSpan.FromSeconds(100));

        Assert.Equal(10, rate.LastMinuteBytesPerSecond(TimeSpan.FromSeconds(120)));
        Assert.Equal(600, rate.LastMinuteBytesPerSecond(TimeSpan.FromSeconds(1)) * 0 + rate.PerMinute()[1]);
        Assert.Equal(6000, rate.PerMinute()[0]);

        // In the bucket's first seconds the rate is over the time elapsed, not over a whole minute.
        var early = new OutputRate();
        early.Add(500, TimeSpan.FromSeconds(4));
        Assert.Equal(100, early.LastMinuteBytesPerSecond(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Kill_StoresWhatFits_MarksTheCrossing_AndAsksForTheKill()
    {
        var policy = Policy(100, LogQuotaAction.Kill, []);

        var verdict = OfferLines(policy, 10);

        Assert.Equal(QuotaVerdict.Kill, verdict);
        Assert.Equal(100, _output.StdoutBytes);
        Assert.Equal(["[logquota] log quota of 100 B for this hour reached; the job is being killed"], _output.Markers);
        var exceeded = Assert.Single(_output.Events);
        Assert.Equal(JobEventTypes.LogQuotaExceeded, exceeded.Type);
        Assert.NotNull(policy.Status().ExceededAt);
        Assert.NotNull(policy.Status().Report);
    }

    [Fact]
    public void Kill_WithAGrace_SaysSoInTheMarker()
    {
        var policy = Policy(100, LogQuotaAction.Kill, [], graceSeconds: 30);

        OfferLines(policy, 10);

        Assert.Equal(["[logquota] log quota of 100 B for this hour reached; the job is being stopped: SIGTERM now, SIGKILL in 30 s"], _output.Markers);
    }

    [Fact]
    public void Observe_StoresEverything_AndRecordsTheCrossingOnce()
    {
        var policy = Policy(100, LogQuotaAction.Observe, []);

        var verdict = OfferLines(policy, 20);

        Assert.Equal(QuotaVerdict.Continue, verdict);
        Assert.Equal(400, _output.StdoutBytes);
        Assert.Equal(400, policy.BytesThisHour);
        Assert.Equal(["[logquota] log quota of 100 B for this hour reached; observe only: nothing is dropped"], _output.Markers);
        Assert.Single(_output.Events, e => e.Type == JobEventTypes.LogQuotaExceeded);
        Assert.Equal(0, policy.Status().DroppedBytes);
        Assert.Equal(_time.GetUtcNow(), policy.Status().ExceededAt);
    }

    [Fact]
    public void Truncate_DropsUntilTheBucketEnds_ThenReportsTheTail_AndResumes()
    {
        var policy = Policy(100, LogQuotaAction.Truncate, []);

        OfferLines(policy, 20); // 100 stored, 300 dropped (15 lines)
        Assert.Equal(100, _output.StdoutBytes);
        Assert.Equal("[logquota] log quota of 100 B for this hour reached; output is dropped until 15:00:00 UTC", _output.Markers.Single());

        _time.Advance(TimeSpan.FromHours(1));
        policy.Tick(_output);

        Assert.Equal(
            [
                "[logquota] log quota of 100 B for this hour reached; output is dropped until 15:00:00 UTC",
                "[logquota] 300 bytes (15 lines) were dropped; they follow",
                "[logquota] a new hour of the log quota began at 15:00:00 UTC; output is stored again",
            ],
            _output.Markers);
        Assert.Contains(string.Concat(Enumerable.Repeat(Encoding.ASCII.GetString(Line), 15)), _output.Runner, StringComparison.Ordinal);
        Assert.Equal([JobEventTypes.LogQuotaExceeded, JobEventTypes.LogTruncated], _output.Events.Select(e => e.Type));

        OfferLines(policy, 2);
        Assert.Equal(140, _output.StdoutBytes);
        Assert.Equal(40, policy.BytesThisHour);
        var status = policy.Status();
        Assert.Equal(300, status.DroppedBytes);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 15, 0, 0, TimeSpan.Zero), status.BucketStartedAt);
        Assert.Equal(new DateTimeOffset(2026, 12, 2, 16, 0, 0, TimeSpan.Zero), status.BucketResetsAt);
        Assert.Equal(300, status.Report!.DroppedBytes); // the last crossed bucket's evidence
    }

    [Fact]
    public void Truncate_ReportsTheDropsWhenTheJobEnds()
    {
        var policy = Policy(100, LogQuotaAction.Truncate, []);
        OfferLines(policy, 7);

        policy.Finish(_output);

        Assert.Equal("[logquota] 40 bytes (2 lines) were dropped; they follow", _output.Markers[^1]);
        Assert.EndsWith(Encoding.ASCII.GetString(Line) + Encoding.ASCII.GetString(Line), _output.All, StringComparison.Ordinal);
        Assert.Equal(100, _output.StdoutBytes);
    }

    [Fact]
    public void Truncate_TheDroppedTailIsBounded_To64KiB_StartingOnAWholeLine()
    {
        var policy = Policy(1000, LogQuotaAction.Truncate, []);
        for (var i = 0; i < 100_000; i++)
        {
            policy.Offer(Encoding.ASCII.GetBytes($"line {i:D7} of the runaway\n"), _output); // 28 bytes each
        }

        policy.Finish(_output);

        var tail = _output.Stored.Where(s => s.Source == LogSource.Runner).Select(s => s.Bytes).OrderByDescending(b => b.Length).First();
        Assert.InRange(tail.Length, DroppedTail.Capacity - 28, DroppedTail.Capacity);
        var text = Encoding.ASCII.GetString(tail);
        Assert.StartsWith("line ", text, StringComparison.Ordinal);
        Assert.EndsWith("line 0099999 of the runaway\n", text, StringComparison.Ordinal);
        Assert.Equal(35 * 28, _output.StdoutBytes); // the whole lines that fit in 1000 bytes
        Assert.Equal((100_000 * 28) - (35 * 28), policy.Status().DroppedBytes);
        Assert.Equal($"[logquota] {(100_000 * 28) - (35 * 28)} bytes ({100_000 - 35} lines) were dropped; the last {QuotaText.Bytes(tail.Length)} of them follow", _output.Markers[^1]);
    }

    [Fact]
    public void Warning_ReachedInTheReadThatFillsTheQuota_NamesTheShareUsed_AndTheThreshold()
    {
        var policy = Policy(100, LogQuotaAction.Truncate, [80]);

        policy.Offer(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Encoding.ASCII.GetString(Line), 10))), _output);

        Assert.StartsWith("[logquota] warning: 100% of the log quota used (warning at 80%): 100 of 100 bytes", _output.Markers[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Kill_TheBucketsReport_CountsTheCutAndTheGrace_AsTheJobsTotalDoes()
    {
        var policy = Policy(100, LogQuotaAction.Kill, [], graceSeconds: 30);

        var verdict = policy.Offer(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat(Encoding.ASCII.GetString(Line), 10))), _output);
        policy.DroppedAfterKill("one more line\nand a half"u8);

        Assert.Equal(QuotaVerdict.Kill, verdict);
        var status = policy.Status();
        Assert.Equal(100 + 24, status.DroppedBytes);
        Assert.Equal(100 + 24, status.Report!.DroppedBytes);
        Assert.Equal(5 + 2, status.Report.DroppedLines);
    }

    [Fact]
    public void Marker_AfterTextCutMidLine_StartsALineOfItsOwn()
    {
        var policy = Policy(10, LogQuotaAction.Kill, []);

        policy.Offer("a line far longer than ten bytes\n"u8, _output);

        Assert.Equal("a line far", _output.Stdout);
        Assert.Equal("a line far\n[logquota] log quota of 10 B for this hour reached; the job is being killed\n", _output.All);
    }

    [Fact]
    public void Report_HoldsTheTopRepeatedLines_AndBytesPerMinute()
    {
        var policy = Policy(1000, LogQuotaAction.Observe, []);
        for (var i = 0; i < 600; i++)
        {
            policy.Offer(i % 3 == 0 ? "loss=nan\n"u8 : Encoding.ASCII.GetBytes($"step {i}\n"), _output);
            if (i == 299)
            {
                _time.Advance(TimeSpan.FromMinutes(1));
            }
        }

        var report = policy.Status().Report!;
        Assert.Equal("loss=nan", report.TopLines[0].Line);
        Assert.Equal(200, report.TopLines[0].Count);
        Assert.Equal(2, report.BytesPerMinute.Count);
        Assert.Equal(_output.StdoutBytes, report.BytesPerMinute.Sum());
    }

    [Fact]
    public void Unlimited_StoresEverything_AndNeverMarks()
    {
        var policy = Policy(null, LogQuotaAction.Kill, [80]);

        OfferLines(policy, 1000);

        Assert.Equal(20_000, _output.StdoutBytes);
        Assert.Empty(_output.Markers);
        Assert.Empty(_output.Events);
        Assert.Null(policy.Status().Limit);
    }
}
