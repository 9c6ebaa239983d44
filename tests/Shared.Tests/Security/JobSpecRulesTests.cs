using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Tests.Security;

/// <summary>The limits both services apply to a job; the numbers are part of the documented contract.</summary>
public sealed class JobSpecRulesTests
{
    private static List<(string Field, string Message)> Check(string[] commands, Dictionary<string, string>? env = null, string? dir = null) =>
        [.. JobSpecRules.Check(commands, env, dir, null, null)];

    [Fact]
    public void TheLimits_AreTheDocumentedNumbers()
    {
        Assert.Equal(1_048_576, JobSpecRules.MaxBodyBytes);
        Assert.Equal(1000, JobSpecRules.MaxCommands);
        Assert.Equal(122_880, JobSpecRules.MaxScriptBytes);
        Assert.Equal(1000, JobSpecRules.MaxEnvEntries);
        Assert.Equal(32_768, JobSpecRules.MaxEnvEntryBytes);
        Assert.Equal(4095, JobSpecRules.MaxWorkingDirBytes);

        // One argument of execve must stay under Linux's MAX_ARG_STRLEN (32 pages of 4 KiB).
        Assert.True(JobSpecRules.MaxScriptBytes < 32 * 4096);
        Assert.True(JobSpecRules.MaxEnvEntryBytes < 32 * 4096);
    }

    [Fact]
    public void TheScript_IsMeasuredInUtf8Bytes_JoinsIncluded()
    {
        var half = JobSpecRules.MaxScriptBytes / 2;
        Assert.Empty(Check([new string('x', half - 2), new string('x', half - 2)]));
        Assert.Equal("commands", Assert.Single(Check([new string('x', half - 1), new string('x', half - 2)])).Field);
        Assert.Empty(Check([new string('é', half)]));
        Assert.Equal("commands", Assert.Single(Check([new string('é', half) + "x"])).Field);
    }

    [Fact]
    public void AnEnvEntry_IsMeasuredAsNameEqualsValue()
    {
        Assert.Empty(Check(["true"], new() { ["AB"] = new string('v', JobSpecRules.MaxEnvEntryBytes - 3) }));
        Assert.Single(Check(["true"], new() { ["AB"] = new string('v', JobSpecRules.MaxEnvEntryBytes - 2) }));
    }

    [Theory]
    [InlineData("/tmp")]
    [InlineData("/home/user/..data")]
    [InlineData("/")]
    public void AbsoluteWorkingDirs_WithoutDotDot_AreAccepted(string dir) => Assert.Empty(Check(["true"], dir: dir));

    /// <summary>SPEC §9: a relative working_dir is taken inside the code directory.</summary>
    [Theory]
    [InlineData("tmp")]
    [InlineData("src/app")]
    [InlineData("./src")]
    [InlineData("..data")]
    public void RelativeWorkingDirs_InsideTheCode_AreAccepted(string dir) => Assert.Empty(Check(["true"], dir: dir));

    [Theory]
    [InlineData("..")]
    [InlineData("../data")]
    [InlineData("src/../../etc")]
    public void RelativeWorkingDirs_LeavingTheCode_AreRefusedInTheseWords(string dir) =>
        Assert.Equal($"working_dir '{dir}' must stay inside the code directory: a relative path may not contain '..' segments.", Assert.Single(Check(["true"], dir: dir)).Message);

    [Theory]
    [InlineData("")]
    [InlineData("/tmp/../etc")]
    [InlineData("/..")]
    [InlineData("/tmp/\u0000")]
    public void OtherWorkingDirs_AreRefused(string dir) => Assert.Equal("working_dir", Assert.Single(Check(["true"], dir: dir)).Field);

    [Theory]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true)]
    [InlineData("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false)]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", false)]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555", false)]
    [InlineData("g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", false)]
    [InlineData("../../../../../../../../../../../../../../../../../../etc/passwd", false)]
    [InlineData("", false)]
    public void CodeHashes_Are64LowercaseHexDigits(string hash, bool valid) => Assert.Equal(valid, JobSpecRules.IsValidCodeHash(hash));

    [Theory]
    [InlineData("a", true)]
    [InlineData("quiet-otter-12", true)]
    [InlineData("a-012345678901234567890123456789012345678", true)]
    [InlineData("a-0123456789012345678901234567890123456789", false)]
    [InlineData("abc\n", false)]
    [InlineData("1abc", false)]
    [InlineData("../x", false)]
    public void RunNames_FollowTheSpecPattern(string name, bool valid) => Assert.Equal(valid, JobSpecRules.IsValidRunName(name));

    [Fact]
    public void Quote_EscapesControlCharacters_AndShortens()
    {
        Assert.Equal("'a\\u0000b\\u000a'", JobSpecRules.Quote("a\0b\n"));
        Assert.Equal(63, JobSpecRules.Quote(new string('x', 500)).Length);
        Assert.DoesNotContain("\n", JobSpecRules.Quote(Encoding.UTF8.GetString("x\ny"u8)), StringComparison.Ordinal);
    }
}
