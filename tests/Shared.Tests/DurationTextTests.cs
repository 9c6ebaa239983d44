using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Tests;

public sealed class DurationTextTests
{
    [Theory]
    [InlineData("1", 1)]
    [InlineData("3600", 3600)]
    [InlineData("30s", 30)]
    [InlineData("90m", 5400)]
    [InlineData("2h", 7200)]
    [InlineData("1d", 86_400)]
    [InlineData("2H", 7200)]
    public void Seconds_OrANumberWithAUnit(string text, int expected)
    {
        Assert.True(DurationText.TryParseSeconds(text, out var seconds));
        Assert.Equal(expected, seconds);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("1.5h")]
    [InlineData("h")]
    [InlineData("10w")]
    [InlineData("99999999999")]
    [InlineData("999999999d")]
    public void Refuses_WhatIsNotAPositiveDuration(string text) =>
        Assert.False(DurationText.TryParseSeconds(text, out _));

    [Theory]
    [InlineData(7200, "2h")]
    [InlineData(5400, "90m")]
    [InlineData(86_400, "1d")]
    [InlineData(61, "61s")]
    public void Format_WritesWhatTheParserReadsBack(int seconds, string expected)
    {
        Assert.Equal(expected, DurationText.Format(seconds));
        Assert.True(DurationText.TryParseSeconds(expected, out var back));
        Assert.Equal(seconds, back);
    }
}
