using LogQuota.Cli.Formatting;

namespace LogQuota.Cli.Tests.Formatting;

public sealed class RelativeTimeTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, "now")]
    [InlineData(9, "now")]
    [InlineData(10, "10 secs ago")]
    [InlineData(59, "59 secs ago")]
    [InlineData(60, "1 min ago")]
    [InlineData(119, "1 min ago")]
    [InlineData(120, "2 mins ago")]
    [InlineData(3599, "59 mins ago")]
    [InlineData(3600, "1 hour ago")]
    [InlineData(7200, "2 hours ago")]
    [InlineData(86_399, "23 hours ago")]
    [InlineData(86_400, "yesterday")]
    [InlineData(3 * 86_400, "3 days ago")]
    [InlineData(7 * 86_400, "1 week ago")]
    [InlineData(21 * 86_400, "3 weeks ago")]
    [InlineData(45 * 86_400, "1 month ago")]
    [InlineData(90 * 86_400, "3 months ago")]
    [InlineData(400 * 86_400, "1 year ago")]
    [InlineData(800 * 86_400, "2 years ago")]
    public void Format_ReadsLikeDstackPs(int secondsAgo, string expected) =>
        Assert.Equal(expected, RelativeTime.Format(Now.AddSeconds(-secondsAgo), Now));

    [Fact]
    public void Format_ReadsNow_WhenTheServerClockIsAhead() =>
        Assert.Equal("now", RelativeTime.Format(Now.AddSeconds(30), Now));
}
