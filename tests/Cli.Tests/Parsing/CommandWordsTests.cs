using LogQuota.Cli.Parsing;

namespace LogQuota.Cli.Tests.Parsing;

public sealed class CommandWordsTests
{
    [Fact]
    public void OneWord_IsAShellCommandLineAsWritten() =>
        Assert.Equal("make && ./train --epochs 3", CommandWords.ToCommandLine(["make && ./train --epochs 3"]));

    [Fact]
    public void SeveralWords_AreQuotedSoTheJobGetsThemExactly() =>
        Assert.Equal(
            "python -c 'print(\"hi\")' 'two words' '' 'it'\\''s' --flag=1 /tmp/a.txt",
            CommandWords.ToCommandLine(["python", "-c", "print(\"hi\")", "two words", "", "it's", "--flag=1", "/tmp/a.txt"]));

    [Theory]
    [InlineData("plain", "plain")]
    [InlineData("$HOME", "'$HOME'")]
    [InlineData("a;b", "'a;b'")]
    [InlineData("*", "'*'")]
    public void Quote_LeavesSafeWordsBare(string word, string expected) =>
        Assert.Equal(expected, CommandWords.Quote(word));

    [Fact]
    public void NoWords_IsAnError() =>
        Assert.Throws<ArgumentException>(() => CommandWords.ToCommandLine([]));
}
