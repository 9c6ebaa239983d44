using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// The screen keeps each cell's style, and a stored line carries its styled stretches as runs beside its text: the
/// text is what it is without colour, byte for byte, and the runs say which bytes were in which SGR style and link.
/// </summary>
public sealed class StyleRunsTests
{
    [Fact]
    public void BasicColour_IsARunOverItsText_AndTheTextStaysPlain()
    {
        var (text, runs) = Store("\e[31mred\e[0m plain\r\n");

        Assert.Equal("red plain\n", text);
        Assert.Equal([("red", "31", null)], runs);
    }

    [Fact]
    public void PlainOutput_HasNoRuns()
    {
        var (text, runs) = Store("one\r\ntwo  \r\n  three\r\n");

        Assert.Equal("one\ntwo\n  three\n", text);
        Assert.Empty(runs);
    }

    [Theory]
    [InlineData("\e[38;5;208mA\e[0m\r\n", "38;5;208")]
    [InlineData("\e[38:5:208mA\e[0m\r\n", "38;5;208")]
    [InlineData("\e[48;2;1;2;3mA\e[0m\r\n", "48;2;1;2;3")]
    [InlineData("\e[38:2::10:20:30mA\e[0m\r\n", "38;2;10;20;30")]
    [InlineData("\e[38:2:10:20:30mA\e[0m\r\n", "38;2;10;20;30")]
    [InlineData("\e[92mA\e[0m\r\n", "92")]
    [InlineData("\e[104mA\e[0m\r\n", "104")]
    [InlineData("\e[1;3;4;7mA\e[0m\r\n", "1;3;4;7")]
    [InlineData("\e[4:3mA\e[0m\r\n", "4")]
    [InlineData("\e[1;32;41mA\e[0m\r\n", "1;32;41")]
    public void SgrParameters_AreRebuiltAsTheStyleTheyMake(string input, string sgr)
    {
        var (text, runs) = Store(input);

        Assert.Equal("A\n", text);
        Assert.Equal([("A", sgr, null)], runs);
    }

    [Fact]
    public void ResetsOfEachAttribute_EndTheirPartOfTheStyle()
    {
        var (_, runs) = Store("\e[1;3;4;7;31;42mA\e[22mB\e[23mC\e[24mD\e[27mE\e[39mF\e[49mG\e[4:0mH\r\n");

        Assert.Equal(
            [("A", "1;3;4;7;31;42", null), ("B", "3;4;7;31;42", null), ("C", "4;7;31;42", null), ("D", "7;31;42", null),
             ("E", "31;42", null), ("F", "42", null)],
            runs);
    }

    [Fact]
    public void AColouredLineAfterPlainOnesInOneRead_KeepsItsColour()
    {
        var (text, runs) = Store("plain 1\r\nplain 2\r\n\e[31mred\e[0m\r\nplain 3\r\n");

        Assert.Equal("plain 1\nplain 2\nred\nplain 3\n", text);
        Assert.Equal([("red", "31", null)], runs);
    }

    [Fact]
    public void ColourCarriedAcrossLines_StylesEachLineUntilReset()
    {
        var (text, runs) = Store("\e[32mgreen\r\nstill\e[0m\r\nplain\r\n");

        Assert.Equal("green\nstill\nplain\n", text);
        Assert.Equal([("green", "32", null), ("still", "32", null)], runs);
    }

    [Fact]
    public void ARedrawnLine_KeepsTheStyleOfItsLastState()
    {
        var (text, runs) = Store("\e[33m 10%\r\e[32m100%\e[0m done\r\n");

        Assert.Equal("100% done\n", text);
        Assert.Equal([("100%", "32", null)], runs);
    }

    [Fact]
    public void SgrSplitAcrossReads_IsTheSameAsWhole()
    {
        var (wholeText, wholeRuns) = Store("\e[1;31mFAILED\e[0m x\r\n");
        for (int split = 1; split < 10; split++)
        {
            var (text, runs) = Store("\e[1;31mFAILED\e[0m x\r\n", split);
            Assert.Equal(wholeText, text);
            Assert.Equal(wholeRuns, runs);
        }
    }

    [Fact]
    public void WideCharactersAndLongWrappedLines_KeepTheirRunsOverTheirBytes()
    {
        var (text, runs) = Store("\e[31m日本\e[0m ok\r\n\e[34m" + new string('a', 450) + "\e[0m\r\n");

        Assert.Equal("日本 ok\n" + new string('a', 450) + "\n", text);
        Assert.Equal([("日本", "31", null), (new string('a', 450), "34", null)], runs);
    }

    [Fact]
    public void SavedCursor_RestoresThePen()
    {
        var (_, runs) = Store("\e[31m\e7\e[0m\e8X\e[0mY\r\n");

        Assert.Equal([("X", "31", null)], runs);
    }

    [Theory]
    [InlineData("\e]8;;https://example.com/a?b=1\e\\link\e]8;;\e\\ after\r\n", "https://example.com/a?b=1")]
    [InlineData("\e]8;id=7;mailto:me@example.com\alink\e]8;;\a after\r\n", "mailto:me@example.com")]
    [InlineData("\e]8;;HTTP://EXAMPLE.COM\alink\e]8;;\a after\r\n", "HTTP://EXAMPLE.COM")]
    public void Osc8LinkWithAnAllowedScheme_IsARunWithItsTarget(string input, string target)
    {
        var (text, runs) = Store(input);

        Assert.Equal("link after\n", text);
        Assert.Equal([("link", "", target)], runs);
    }

    [Theory]
    [InlineData("\e]8;;javascript:alert(1)\alink\e]8;;\a\r\n")]
    [InlineData("\e]8;;file:///etc/passwd\alink\e]8;;\a\r\n")]
    [InlineData("\e]8;;https://a b\alink\e]8;;\a\r\n")]
    [InlineData("\e]8;;data:text/html,<script>\alink\e]8;;\a\r\n")]
    public void Osc8LinkWithARefusedScheme_LeavesTheTextPlain(string input)
    {
        var (text, runs) = Store(input);

        Assert.Equal("link\n", text);
        Assert.Empty(runs);
    }

    [Fact]
    public void ALinkTooLongToKeep_LeavesTheTextPlain()
    {
        var (text, runs) = Store("\e]8;;https://x/" + new string('a', 5000) + "\alink\e]8;;\a\r\n");

        Assert.Equal("link\n", text);
        Assert.Empty(runs);
    }

    [Fact]
    public void ManyDistinctLinks_AreAllKeptAsTheirLinesLeave()
    {
        var input = new StringBuilder();
        for (int i = 0; i < 600; i++)
        {
            input.Append(System.Globalization.CultureInfo.InvariantCulture, $"\e]8;;https://x/{i}\a#{i}\e]8;;\a\r\n");
        }

        var (_, runs) = Store(input.ToString());

        Assert.Equal(600, runs.Count);
        Assert.Equal(("#599", "", "https://x/599"), runs[^1]);
    }

    [Fact]
    public void SoftResetAndFullReset_ClearThePen()
    {
        Assert.Empty(Store("\e[31m\e[!pA\r\n").Runs);
        Assert.Empty(Store("\e[31m\ecA\r\n").Runs);
    }

    /// <summary>Stored text and its runs as (styled text, sgr, link), for <paramref name="input"/> given in two reads cut at <paramref name="split"/>.</summary>
    private static (string Text, List<(string, string, string?)> Runs) Store(string input, int split = 0)
    {
        var bytes = Encoding.UTF8.GetBytes(input);
        var processor = new TerminalProcessor();
        var all = new ArrayBufferWriter<byte>();
        var runs = new List<(string, string, string?)>();
        void Take(Action<ArrayBufferWriter<byte>> step)
        {
            var written = new ArrayBufferWriter<byte>();
            step(written);
            foreach (var run in processor.Styles)
            {
                runs.Add((Encoding.UTF8.GetString(written.WrittenSpan.Slice(run.Start, run.Length)), run.Sgr, run.Link));
            }

            all.Write(written.WrittenSpan);
        }

        Take(w => processor.Process(bytes.AsSpan(0, split), w));
        Take(w => processor.Process(bytes.AsSpan(split), w));
        Take(processor.Finish);
        return (Encoding.UTF8.GetString(all.WrittenSpan), runs);
    }
}
