using LogQuota.Shared.Contracts;

namespace LogQuota.Shared.Tests.Security;

/// <summary>What a secret may be called and hold: names the runner does not reserve, values long enough to mask.</summary>
public sealed class SecretRulesTests
{
    [Theory]
    [InlineData("HF_TOKEN")]
    [InlineData("_private")]
    [InlineData("WANDB_API_KEY2")]
    public void EnvironmentVariableNames_AreAccepted(string name) => Assert.Null(SecretRules.CheckName(name));

    [Theory]
    [InlineData("", "environment variable name")]
    [InlineData("2FA", "environment variable name")]
    [InlineData("HF-TOKEN", "environment variable name")]
    [InlineData("HF_TOKEN\n", "environment variable name")]
    [InlineData("DSTACK_RUN_NAME", "reserved")]
    [InlineData("DSTACK_ANYTHING", "reserved")]
    [InlineData("HOME", "reserved")]
    public void OtherNames_AreRefused_InWords(string name, string words) =>
        Assert.Contains(words, SecretRules.CheckName(name), StringComparison.Ordinal);

    [Theory]
    [InlineData("abcd")]
    [InlineData("hf_0123456789abcdef")]
    [InlineData("-----BEGIN KEY-----\nMIIEvQIB\n-----END KEY-----\n")]
    public void ValuesLongEnoughToMask_AreAccepted(string value) => Assert.Null(SecretRules.CheckValue(value));

    [Theory]
    [InlineData("abc", "at least 4 characters")]
    [InlineData("abc    ", "at least 4 characters")]
    [InlineData("   \n  ", "at least 4 characters")]
    [InlineData("long enough\nab\n", "each of its lines")]
    [InlineData("with\ttab", "control characters")]
    [InlineData("with\rreturn", "control characters")]
    [InlineData("with\u001b[31mescape", "control characters")]
    public void ValuesThatCannotBeMasked_AreRefused_InWords(string value, string words) =>
        Assert.Contains(words, SecretRules.CheckValue(value), StringComparison.Ordinal);

    [Fact]
    public void AValueAboveTheLimit_IsRefused() =>
        Assert.Contains("at most", SecretRules.CheckValue(new string('x', SecretRules.MaxValueBytes + 1)), StringComparison.Ordinal);

    [Fact]
    public void TheLinesMasked_AreTheNonBlankOnes_WithoutTrailingSpaces() =>
        Assert.Equal(["first", "second"], SecretRules.MaskedLines("first  \n\n  \nsecond\n"));

    [Fact]
    public void ARun_NamingASecretTwice_OrAlsoInItsEnv_IsRefused()
    {
        Assert.Empty(SecretRules.CheckRunSecrets(["A", "B"], new Dictionary<string, string> { ["C"] = "x" }));
        Assert.Contains("more than once", SecretRules.CheckRunSecrets(["A", "A"], null).Single().Message, StringComparison.Ordinal);
        Assert.Contains("both in env and in secrets", SecretRules.CheckRunSecrets(["A"], new Dictionary<string, string> { ["A"] = "x" }).Single().Message, StringComparison.Ordinal);
        Assert.Contains("reserved", SecretRules.CheckRunSecrets(["DSTACK_X"], null).Single().Message, StringComparison.Ordinal);
    }
}
