using LogQuota.Cli.Formatting;

namespace LogQuota.Cli.Tests.Formatting;

public sealed class ByteSizeTests
{
    [Theory]
    [InlineData(0, "0B")]
    [InlineData(1, "1B")]
    [InlineData(1023, "1023B")]
    [InlineData(1024, "1.0KiB")]
    [InlineData(1536, "1.5KiB")]
    [InlineData(1_048_575, "1.0MiB")]
    [InlineData(52_428_800, "50.0MiB")]
    [InlineData(1_073_741_824, "1.0GiB")]
    [InlineData(long.MaxValue, "8.0EiB")]
    public void Format_UsesBinaryUnitsWithOneDecimal(long bytes, string expected) =>
        Assert.Equal(expected, ByteSize.Format(bytes));

    [Fact]
    public void FormatQuota_ShowsPerHour_OrUnlimited()
    {
        Assert.Equal("50.0MiB/h", ByteSize.FormatQuota(52_428_800));
        Assert.Equal("1.0KiB/h", ByteSize.FormatQuota(1024));
        Assert.Equal("unlimited", ByteSize.FormatQuota(null));
    }

    [Theory]
    [InlineData(512, null, "512B")]
    [InlineData(0, 1024L, "0B (0%)")]
    [InlineData(512, 1024L, "512B (50%)")]
    [InlineData(1023, 1024L, "1023B (99%)")]
    [InlineData(1024, 1024L, "1.0KiB (100%)")]
    public void FormatUsage_AddsTheShareOfTheQuota(long bytes, long? quota, string expected) =>
        Assert.Equal(expected, ByteSize.FormatUsage(bytes, quota));

    [Theory]
    [InlineData("1048576", 1_048_576)]
    [InlineData("1", 1)]
    [InlineData("512K", 524_288)]
    [InlineData("512KiB", 524_288)]
    [InlineData("50MiB", 52_428_800)]
    [InlineData("50mib", 52_428_800)]
    [InlineData("10MB", 10_000_000)]
    [InlineData("1.5GiB", 1_610_612_736)]
    [InlineData(" 2 MiB ", 2_097_152)]
    [InlineData("100B", 100)]
    public void TryParse_AcceptsBytesAndUnits(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("10 parsecs")]
    [InlineData("1e6")]
    [InlineData("MiB")]
    [InlineData("99999999999999999999")]
    [InlineData("9000000TiB")]
    public void TryParse_RefusesWhatIsNotASize(string text) =>
        Assert.False(ByteSize.TryParse(text, out _));
}
