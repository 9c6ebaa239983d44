using LogQuota.Cli.Parsing;

namespace LogQuota.Cli.Tests.Parsing;

public sealed class EnvironmentArgumentsTests
{
    [Fact]
    public void KeyValuePairs_AreParsed_ValuesMayBeEmptyOrHoldEquals()
    {
        Assert.True(EnvironmentArguments.TryParse(["A=1", "_B2=x=y", "EMPTY="], out var env, out var error));
        Assert.Null(error);
        Assert.Equal(new Dictionary<string, string> { ["A"] = "1", ["_B2"] = "x=y", ["EMPTY"] = "" }, env);
    }

    [Theory]
    [InlineData("FOO", "-e expects KEY=VALUE, got 'FOO'")]
    [InlineData("=1", "-e '=1': '' is not a valid variable name (letters, digits and _, not starting with a digit)")]
    [InlineData("1A=x", "-e '1A=x': '1A' is not a valid variable name (letters, digits and _, not starting with a digit)")]
    [InlineData("A-B=x", "-e 'A-B=x': 'A-B' is not a valid variable name (letters, digits and _, not starting with a digit)")]
    public void BadValue_IsRefusedWithOneLineNamingIt(string value, string expected)
    {
        Assert.False(EnvironmentArguments.TryParse(["OK=1", value], out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void RepeatedKey_IsRefused()
    {
        Assert.False(EnvironmentArguments.TryParse(["A=1", "A=2"], out _, out var error));
        Assert.Equal("-e A is given more than once", error);
    }
}
