using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Tests;

/// <summary>Sizes in messages: in the units a person types back, exact, or the bytes when no unit is exact.</summary>
public sealed class ByteCountTests
{
    [Theory]
    [InlineData(52_428_800L, "50MiB")]
    [InlineData(1536L, "1.5KiB")]
    [InlineData(1000L, "1000B")]
    [InlineData(52_428_801L, "52428801 bytes")]
    [InlineData(99_999_999_999L, "99999999999 bytes")]
    public void Readable_IsExact(long bytes, string expected)
    {
        Assert.Equal(expected, ByteCount.Readable(bytes));
        Assert.True(ByteCount.TryParse(expected, out var back));
        Assert.Equal(bytes, back);
    }
}
