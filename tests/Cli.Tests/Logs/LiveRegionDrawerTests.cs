using System.Buffers;
using System.Text;
using LogQuota.Cli.Logs;

namespace LogQuota.Cli.Tests.Logs;

public sealed class LiveRegionDrawerTests
{
    private const string EraseTwoRows = "\r\e[2K\e[1A\e[2K";

    private readonly LiveRegionDrawer _drawer = new(width: 120, height: 30);

    [Fact]
    public void Live_IsDrawnBelowTheStoredLines_WithoutALineEndAfterTheLast()
    {
        var output = Write(d => d.WriteStored(Buffer, "stored\n"u8), d => d.DrawLive(Buffer, Bytes("bar 1\nbar 2")));

        Assert.Equal("stored\nbar 1\nbar 2", output);
        Assert.Equal(2, _drawer.DrawnRows);
    }

    [Fact]
    public void NewLive_ErasesEveryDrawnRow_ThenDrawsInTheirPlace()
    {
        _drawer.DrawLive(Buffer, Bytes("bar 1\nbar 2"));

        var output = Write(d => d.DrawLive(Buffer, Bytes("bar 3\nbar 4\nbar 5")));

        Assert.Equal(EraseTwoRows + "bar 3\nbar 4\nbar 5", output);
        Assert.Equal(3, _drawer.DrawnRows);
    }

    [Fact]
    public void StoredBytes_EraseTheLiveRegionFirst_AndItIsRedrawnBelowThem()
    {
        _drawer.DrawLive(Buffer, Bytes("bar 1\nbar 2"));

        var output = Write(d => d.WriteStored(Buffer, "line\n"u8), d => d.DrawLive(Buffer, Bytes("bar 1\nbar 2")));

        Assert.Equal(EraseTwoRows + "line\nbar 1\nbar 2", output);
    }

    [Fact]
    public void TheSameLive_WritesNothing()
    {
        _drawer.DrawLive(Buffer, Bytes("bar 1\nbar 2"));

        Assert.Equal("", Write(d => d.DrawLive(Buffer, Bytes("bar 1\nbar 2"))));
    }

    [Fact]
    public void NoLive_ErasesTheDrawnRegion_AndTheCursorIsWhereTheStoredTextContinues()
    {
        _drawer.DrawLive(Buffer, Bytes("bar 1\nbar 2"));

        Assert.Equal(EraseTwoRows, Write(d => d.DrawLive(Buffer, null)));
        Assert.Equal(0, _drawer.DrawnRows);
        Assert.Equal("", Write(d => d.Erase(Buffer), d => d.DrawLive(Buffer, null)));
    }

    [Fact]
    public void OneLine_IsErasedWithoutMovingUp()
    {
        _drawer.DrawLive(Buffer, Bytes("50%|#####     |\n"));

        Assert.Equal("\r\e[2K", Write(d => d.Erase(Buffer)));
    }

    [Fact]
    public void ALineWiderThanTheTerminal_IsWrappedOntoRowsOfOneColumnLess_NeverCut_CountingWideCharactersAsTwo()
    {
        var drawer = new LiveRegionDrawer(width: 10, height: 30);

        var output = Write(drawer, d => d.DrawLive(Buffer, Bytes("0123456789abcdef\n日本語日本語\nshort")));

        // 9 columns: nine narrow characters, or four wide ones (a fifth would need columns 9 and 10) per row.
        Assert.Equal("012345678\n9abcdef\n日本語日\n本語\nshort", output);
        Assert.Equal(5, drawer.DrawnRows);
        Assert.Equal("\r\e[2K" + string.Concat(Enumerable.Repeat("\e[1A\e[2K", 4)), Write(drawer, d => d.Erase(Buffer)));
    }

    [Theory]
    [InlineData(10, 3)] // narrower: the 19-cell row takes two rows once the terminal rewraps it
    [InlineData(40, 2)] // wider: each drawn row ended with a line end, so it stays one row
    [InlineData(20, 2)]
    public void AfterAResize_TheRowsToEraseAreCountedAtTheNewWidth(int newWidth, int rows)
    {
        int width = 20;
        var drawer = new LiveRegionDrawer(width: 20, height: 30, currentWidth: () => width);
        Write(drawer, d => d.DrawLive(Buffer, Bytes("0123456789012345678\nab")));

        width = newWidth;

        Assert.Equal("\r\e[2K" + string.Concat(Enumerable.Repeat("\e[1A\e[2K", rows - 1)), Write(drawer, d => d.Erase(Buffer)));
    }

    [Fact]
    public void AfterAResize_TheSameLive_IsDrawnAgain_AtTheNewWidth()
    {
        int width = 20;
        var drawer = new LiveRegionDrawer(width: 20, height: 30, currentWidth: () => width);
        Write(drawer, d => d.DrawLive(Buffer, Bytes("0123456789012345678")));

        width = 10;

        Assert.Equal("\r\e[2K\e[1A\e[2K" + "012345678\n901234567\n8", Write(drawer, d => d.DrawLive(Buffer, Bytes("0123456789012345678"))));
        Assert.Equal(3, drawer.DrawnRows);
    }

    [Fact]
    public void Redraw_AfterAResize_DrawsTheRegionOnScreenAtTheNewWidth_AndNothingWhenTheWidthIsTheSameOrTheRegionIsErased()
    {
        int width = 20;
        var drawer = new LiveRegionDrawer(width: 20, height: 30, currentWidth: () => width);
        Write(drawer, d => d.DrawLive(Buffer, Bytes("0123456789012345678")));
        Assert.Equal("", Write(drawer, d => d.Redraw(Buffer)));

        // Narrowed: the terminal has rewrapped the one drawn row of 19 cells onto two; both are erased, and the same
        // line is drawn in rows of 9.
        width = 10;
        Assert.Equal("\r\e[2K\e[1A\e[2K" + "012345678\n901234567\n8", Write(drawer, d => d.Redraw(Buffer)));
        Assert.Equal(3, drawer.DrawnRows);

        // Erased (before a prompt or a summary): a resize does not bring it back.
        Write(drawer, d => d.Erase(Buffer));
        width = 30;
        Assert.Equal("", Write(drawer, d => d.Redraw(Buffer)));
    }

    [Fact]
    public void ControlCharacters_AreDropped_AndTabsBecomeSpacesToTheNextStop()
    {
        var output = Write(d => d.DrawLive(Buffer, Bytes("a\tb\e[31mred\r\b\u009b2J")));

        Assert.Equal("a       b[31mred2J", output);
    }

    [Fact]
    public void MoreLinesThanTheScreenHolds_DrawsTheLastOnesThatFit()
    {
        var drawer = new LiveRegionDrawer(width: 120, height: 4);

        var output = Write(drawer, d => d.DrawLive(Buffer, Bytes("one\ntwo\nthree\nfour\nfive")));

        Assert.Equal("three\nfour\nfive", output);
        Assert.Equal(3, drawer.DrawnRows);
    }

    [Fact]
    public void WhileStoredTextEndsMidLine_NothingIsDrawn_UntilTheLineIsComplete()
    {
        Assert.Equal("Downloading", Write(d => d.WriteStored(Buffer, "Downloading"u8), d => d.DrawLive(Buffer, Bytes("bar"))));
        Assert.Equal(0, _drawer.DrawnRows);

        Assert.Equal(" done\nbar", Write(d => d.WriteStored(Buffer, " done\n"u8), d => d.DrawLive(Buffer, Bytes("bar"))));
    }

    [Fact]
    public void Leave_KeepsTheRegionOnScreen_AndMovesTheCursorToTheNextRow()
    {
        _drawer.DrawLive(Buffer, Bytes("bar 1\nbar 2"));

        Assert.Equal("\n", Write(d => d.Leave(Buffer)));
        Assert.Equal(0, _drawer.DrawnRows);
        Assert.Equal("", Write(d => d.Leave(Buffer), d => d.Erase(Buffer)));
    }

    [Fact]
    public void InvalidUtf8_IsDrawnAsReplacementCharacters()
    {
        Assert.Equal("a\uFFFDb", Write(d => d.DrawLive(Buffer, [(byte)'a', 0xFF, (byte)'b'])));
    }

    [Fact]
    public void StoredBytes_AreWrittenExactlyAsStored()
    {
        byte[] stored = [0x1B, (byte)'[', (byte)'3', (byte)'1', (byte)'m', 0xFF, (byte)'\t', (byte)'\n'];

        _drawer.WriteStored(Buffer, stored);

        Assert.Equal(stored, Buffer.WrittenSpan.ToArray());
    }

    private ArrayBufferWriter<byte> Buffer { get; } = new();

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private string Write(params Action<LiveRegionDrawer>[] steps) => Write(_drawer, steps);

    /// <summary>What <paramref name="steps"/> write, from an empty buffer.</summary>
    private string Write(LiveRegionDrawer drawer, params Action<LiveRegionDrawer>[] steps)
    {
        Buffer.Clear();
        foreach (var step in steps)
        {
            step(drawer);
        }

        var written = Encoding.UTF8.GetString(Buffer.WrittenSpan);
        Buffer.Clear();
        return written;
    }
}
