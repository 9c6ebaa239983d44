using System.Text;
using LogQuota.Runner.Quota;

namespace LogQuota.Runner.Tests.Quota;

public sealed class QuotaCutTests
{
    [Theory]
    [InlineData("aa\nbb\ncc\n", 7, 6)]
    [InlineData("aa\nbb\ncc\n", 6, 6)]
    [InlineData("aa\nbb\ncc\n", 5, 3)]
    [InlineData("aa\nbb\ncc\n", 3, 3)]
    [InlineData("\nabc", 3, 1)]
    public void Cut_EndsAtTheLastWholeLineThatFits(string pending, int allowed, int expected)
    {
        Assert.Equal(expected, QuotaCut.Cut(Encoding.UTF8.GetBytes(pending), allowed, mayCutMidLine: false));
        Assert.Equal(expected, QuotaCut.Cut(Encoding.UTF8.GetBytes(pending), allowed, mayCutMidLine: true));
    }

    [Fact]
    public void Cut_WithoutAWholeLine_KeepsNothing_WhenTheBucketEndsOnAWholeLine()
    {
        Assert.Equal(0, QuotaCut.Cut("a long first line\n"u8, 10, mayCutMidLine: false));
    }

    [Fact]
    public void Cut_WithoutAWholeLine_KeepsWholeAsciiCharacters_WhenMidLineCutIsAllowed()
    {
        Assert.Equal(10, QuotaCut.Cut("a long first line\n"u8, 10, mayCutMidLine: true));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(4, 2)]
    [InlineData(5, 5)]
    [InlineData(6, 6)]
    public void Cut_NeverEndsInsideAThreeByteCharacter(int allowed, int expected)
    {
        // "ab€cd": '€' is E2 82 AC at bytes 2..4.
        Assert.Equal(expected, QuotaCut.Cut("ab€cd"u8, allowed, mayCutMidLine: true));
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(3, 1)]
    [InlineData(4, 1)]
    [InlineData(5, 5)]
    public void Cut_NeverEndsInsideAFourByteCharacter(int allowed, int expected)
    {
        // "x😀y": '😀' is F0 9F 98 80 at bytes 1..4.
        Assert.Equal(expected, QuotaCut.Cut("x😀y"u8, allowed, mayCutMidLine: true));
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0x82, 0x82, 0x62 }, 2, 2)]
    [InlineData(new byte[] { 0x61, 0x82, 0x82, 0x62 }, 1, 1)]
    [InlineData(new byte[] { 0xE2, 0x82, 0x41, 0x42 }, 1, 1)]
    [InlineData(new byte[] { 0xE2, 0x82, 0x41, 0x42 }, 2, 2)]
    [InlineData(new byte[] { 0xFF, 0xFE, 0xFD }, 2, 2)]
    [InlineData(new byte[] { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 }, 4, 4)]
    public void Cut_TreatsEveryInvalidByteAsItsOwnCharacter(byte[] pending, int allowed, int expected)
    {
        Assert.Equal(expected, QuotaCut.Cut(pending, allowed, mayCutMidLine: true));
    }

    [Fact]
    public void Cut_DoesNotSplitAnIncompleteCharacterAtTheEndOfPending()
    {
        // 'a' then the first two bytes of '€' (E2 82): the rest is still to come from the job.
        Assert.Equal(1, QuotaCut.Cut([0x61, 0xE2, 0x82], 2, mayCutMidLine: true));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(-5, 0)]
    [InlineData(4, 4)]
    [InlineData(100, 4)]
    public void Cut_OutsideTheNormalRange_IsClamped(int allowed, int expected)
    {
        Assert.Equal(expected, QuotaCut.Cut("abc\n"u8, allowed, mayCutMidLine: true));
    }
}
