using LogQuota.Runner.Code;

namespace LogQuota.Runner.Tests.Code;

/// <summary>The path rules of a code archive, on names alone.</summary>
public sealed class CodePathsTests
{
    [Theory]
    [InlineData("a", "a")]
    [InlineData("./a/b", "a/b")]
    [InlineData("a//b/./c/", "a/b/c")]
    [InlineData("./", "")]
    [InlineData("..a/b..", "..a/b..")]
    public void Inside_GivesTheComponents(string name, string expected) =>
        Assert.Equal(expected, string.Join('/', CodePaths.Inside(name)));

    [Theory]
    [InlineData("/x", "is an absolute path")]
    [InlineData("..", "leads outside the code directory")]
    [InlineData("a/../b", "leads outside the code directory")]
    [InlineData("a/\uFFFD", "has a name that is not valid UTF-8")]
    public void Inside_RefusesNamesThatLeaveOrCannotBeNamed(string name, string rule) =>
        Assert.Equal($"code archive entry '{name}' {rule}", Assert.Throws<CodeArchiveException>(() => CodePaths.Inside(name)).Message);

    [Theory]
    [InlineData("l", "target")]
    [InlineData("a/b/l", "../../x")]
    [InlineData("a/b/l", "..")]
    [InlineData("a/l", "./../x/./y")]
    [InlineData("l", "a/b/c")]
    public void SymlinkTargets_ThatStayInside_AreAllowed(string link, string target) =>
        CodePaths.CheckSymlinkTarget(link, CodePaths.Inside(link), target);

    [Theory]
    [InlineData("l", "/", "is a symlink to the absolute path '/'")]
    [InlineData("l", "..", "is a symlink to '..', which leads outside the code directory")]
    [InlineData("a/b/l", "../../../x", "leads outside the code directory")]
    [InlineData("l", "a/../b", "which has '..' after a name")]
    [InlineData("l", "", "is a symlink with an empty target")]
    public void SymlinkTargets_ThatCouldLeadOutside_AreRefused(string link, string target, string rule)
    {
        var error = Assert.Throws<CodeArchiveException>(() => CodePaths.CheckSymlinkTarget(link, CodePaths.Inside(link), target));
        Assert.StartsWith($"code archive entry '{link}' ", error.Message, StringComparison.Ordinal);
        Assert.Contains(rule, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Quote_EscapesControlCharacters_AndCutsLongNames()
    {
        Assert.Equal("'a\\u000ab'", CodePaths.Quote("a\nb"));
        Assert.Equal(203, CodePaths.Quote(new string('x', 500)).Length);
    }
}
