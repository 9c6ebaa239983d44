using LogQuota.Cli.Code;

namespace LogQuota.Cli.Tests.Code;

/// <summary><c>.logquotaignore</c> patterns read as git reads a <c>.gitignore</c> at the top of a tree.</summary>
public sealed class IgnoreRulesTests
{
    [Theory]
    // A plain name matches at any depth, files and directories alike.
    [InlineData("data.csv", "data.csv", false, true)]
    [InlineData("data.csv", "a/b/data.csv", false, true)]
    [InlineData("data.csv", "data.csv.bak", false, false)]
    [InlineData("venv", "venv", true, true)]
    // '*' and '?' stay within one segment.
    [InlineData("*.pt", "model.pt", false, true)]
    [InlineData("*.pt", "ckpt/model.pt", false, true)]
    [InlineData("*.pt", "model.pth", false, false)]
    [InlineData("ckpt/*.pt", "ckpt/sub/model.pt", false, false)]
    [InlineData("run?.log", "run1.log", false, true)]
    [InlineData("run?.log", "run12.log", false, false)]
    [InlineData("[abc].txt", "b.txt", false, true)]
    [InlineData("[!abc].txt", "d.txt", false, true)]
    [InlineData("[!abc].txt", "a.txt", false, false)]
    [InlineData("[0-9].txt", "7.txt", false, true)]
    // A leading '/' or a '/' inside anchors to the top.
    [InlineData("/build", "build", true, true)]
    [InlineData("/build", "src/build", true, false)]
    [InlineData("docs/out", "docs/out", true, true)]
    [InlineData("docs/out", "x/docs/out", true, false)]
    // A trailing '/' matches directories only.
    [InlineData("logs/", "logs", true, true)]
    [InlineData("logs/", "logs", false, false)]
    [InlineData("logs/", "a/logs", true, true)]
    // '**' crosses segments: leading, inside, trailing.
    [InlineData("**/cache", "cache", true, true)]
    [InlineData("**/cache", "a/b/cache", true, true)]
    [InlineData("a/**/z.bin", "a/z.bin", false, true)]
    [InlineData("a/**/z.bin", "a/b/c/z.bin", false, true)]
    [InlineData("a/**/z.bin", "b/a/z.bin", false, false)]
    [InlineData("out/**", "out/x/y", false, true)]
    [InlineData("out/**", "out", true, false)]
    [InlineData("**", "anything/at/all", false, true)]
    // Comments, blank lines, escapes.
    [InlineData("# notes.txt", "# notes.txt", false, false)]
    [InlineData("\\#notes.txt", "#notes.txt", false, true)]
    [InlineData("", "x", false, false)]
    [InlineData("trailing.txt   ", "trailing.txt", false, true)]
    [InlineData("\\!important", "!important", false, true)]
    public void OnePattern(string pattern, string path, bool isDirectory, bool ignored) =>
        Assert.Equal(ignored, IgnoreRules.Parse(pattern).IsIgnored(path, isDirectory));

    [Theory]
    [InlineData("*.log\n!keep.log", "debug.log", true)]
    [InlineData("*.log\n!keep.log", "keep.log", false)]
    [InlineData("*.log\n!keep.log", "sub/keep.log", false)]
    [InlineData("!keep.log\n*.log", "keep.log", true)]
    [InlineData("data/*\n!data/small.csv", "data/big.bin", true)]
    [InlineData("data/*\n!data/small.csv", "data/small.csv", false)]
    [InlineData("# a comment\r\n\r\n*.tmp\r\n", "x.tmp", true)]
    public void TheLastMatchingPatternDecides(string text, string path, bool ignored) =>
        Assert.Equal(ignored, IgnoreRules.Parse(text).IsIgnored(path, isDirectory: false));

    [Fact]
    public void NoFile_IgnoresNothing()
    {
        var dir = Directory.CreateTempSubdirectory("logquota-ignore-");
        try
        {
            Assert.False(IgnoreRules.Load(dir.FullName).IsIgnored("anything", false));
        }
        finally
        {
            dir.Delete();
        }
    }
}
