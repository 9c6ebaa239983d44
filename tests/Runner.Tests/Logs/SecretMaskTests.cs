using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>The mask alone, and behind the terminal processor: what leaves the screen holds no value.</summary>
public sealed class SecretMaskTests
{
    private const string Value = "hf_abcdefghijklmnopqrstuvwxyz0123456789";

    [Fact]
    public void EveryOccurrence_BecomesStars_AndTextWithoutAValue_IsReturnedAsItIs()
    {
        var mask = SecretMask.For([Value, "other-secret"])!;

        Assert.Equal("a *** b ***\n*** c\n", Apply(mask, $"a {Value} b {Value}\nother-secret c\n"));
        var plain = "nothing to hide\n"u8.ToArray();
        Assert.True(mask.Apply(plain).Overlaps(plain));
    }

    [Fact]
    public void AValueHoldingAnother_IsMaskedWhole()
    {
        var mask = SecretMask.For(["abcd", "xxabcdxx"])!;

        Assert.Equal("*** and ***\n", Apply(mask, "xxabcdxx and abcd\n"));
    }

    [Fact]
    public void EachLineOfAMultiLineValue_IsMaskedOnItsOwn()
    {
        var mask = SecretMask.For(["-----BEGIN KEY-----\nMIIEvQIBADANBg  \n-----END KEY-----\n"])!;

        Assert.Equal("***\n***\n***\n", Apply(mask, "-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----\n"));
    }

    [Fact]
    public void NoValues_NoMask() => Assert.Null(SecretMask.For([]));

    [Fact]
    public void TheLiveRegion_HidesAValueBeingWritten_AtTheEndOfALine()
    {
        var mask = SecretMask.For([Value])!;

        Assert.Equal("done ***\nnow ***", Encoding.UTF8.GetString(mask.ApplyLive(Encoding.UTF8.GetBytes($"done {Value}\nnow {Value[..12]}"))));
        // Fewer characters than a value may have say nothing, and a line that merely ends alike stays.
        Assert.Equal("now hf_", Encoding.UTF8.GetString(mask.ApplyLive("now hf_"u8)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void ScreenText_SplitIntoReads_WrappedAndRedrawn_HoldsNoValue(int readSize)
    {
        var terminal = new TerminalProcessor();
        var mask = SecretMask.For([Value])!;
        var raw = new StringBuilder()
            .Append(Value[..10]).Append("\u001b[31m").Append(Value[10..]).Append("\r\n")
            .Append(new string('x', 190)).Append(Value).Append("\r\n");
        for (var i = 0; i < 1000; i++)
        {
            raw.Append($"\r{i} {Value}");
        }

        raw.Append("\r\n");
        var bytes = Encoding.UTF8.GetBytes(raw.ToString());
        var stored = new StringBuilder();
        var lines = new ArrayBufferWriter<byte>();
        for (var at = 0; at < bytes.Length; at += readSize)
        {
            lines.ResetWrittenCount();
            terminal.Process(bytes.AsSpan(at, Math.Min(readSize, bytes.Length - at)), lines);
            stored.Append(Encoding.UTF8.GetString(mask.Apply(lines.WrittenSpan)));
            var live = new ArrayBufferWriter<byte>();
            if (terminal.WriteLive(live))
            {
                var shown = Encoding.UTF8.GetString(mask.ApplyLive(live.WrittenSpan));
                Assert.DoesNotContain(Fragments(), fragment => shown.Contains(fragment, StringComparison.Ordinal));
            }
        }

        lines.ResetWrittenCount();
        terminal.Finish(lines);
        stored.Append(Encoding.UTF8.GetString(mask.Apply(lines.WrittenSpan)));
        Assert.Equal($"***\n{new string('x', 190)}***\n999 ***\n", stored.ToString());
    }

    [Fact]
    public void ARedrawsMix_OnTheScreen_IsMaskedByItsFragments_ButAStoredLineKeepsWordsOfAValue()
    {
        var mask = SecretMask.For([Value, "password-of-mine"])!;
        var mix = $"10 hf_a{Value[7..]}";

        Assert.Equal("10 hf_a***", Encoding.UTF8.GetString(mask.ApplyToScreen(Encoding.UTF8.GetBytes(mix))));
        Assert.Equal(mix, Apply(mask, mix));
        Assert.Equal("my password is *** and my password-\n", Apply(mask, "my password is password-of-mine and my password-\n"));
    }

    private static IEnumerable<string> Fragments() =>
        Enumerable.Range(0, Value.Length - SecretMask.FragmentLength + 1).Select(at => Value.Substring(at, SecretMask.FragmentLength));

    private static string Apply(SecretMask mask, string text) => Encoding.UTF8.GetString(mask.Apply(Encoding.UTF8.GetBytes(text)));
}
