using System.Text;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>The corpus replay's judge of a load-dependent difference: early states pass, anything else does not.</summary>
public sealed class EarlyStoredLinesTests
{
    private static readonly byte[] s_capture = File.ReadAllBytes(Path.Combine(Oracle.CorpusDir, "tqdm_nested.raw"));
    private static readonly string s_golden = File.ReadAllText(Path.Combine(Oracle.CorpusDir, "tqdm_nested.golden"), Encoding.UTF8);

    // The outer bar's first frame, which the capture draws before any redraw.
    private static readonly string s_firstFrame = Encoding.UTF8.GetString(s_capture).Split("\r\n")[0].TrimStart('\r').TrimEnd();

    [Fact]
    public void AFrameStoredBeforeItsFinalState_IsExplained_AsEarlyStoring()
    {
        var early = EarlyStoredLines.Explain(s_golden, s_firstFrame + "\n" + s_golden, s_capture);

        Assert.Equal([s_firstFrame], early);
    }

    [Fact]
    public void AMissingLine_IsARealDifference()
    {
        var lines = s_golden.Split('\n');
        var stored = string.Join('\n', lines.Skip(1));

        Assert.Null(EarlyStoredLines.Explain(s_golden, stored, s_capture));
    }

    [Fact]
    public void ALineTheScreenNeverShowed_IsARealDifference()
    {
        Assert.Null(EarlyStoredLines.Explain(s_golden, "outer:  50%| never drawn\n" + s_golden, s_capture));
        Assert.Null(EarlyStoredLines.Explain(s_golden, s_golden.Replace("inner", "innr", StringComparison.Ordinal), s_capture));
    }
}
