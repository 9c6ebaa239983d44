using LogQuota.Shared.Security;

namespace LogQuota.Shared.Tests.Security;

public sealed class BearerTokenTests
{
    private const string Token = "s3cret-token-0123456789";
    private readonly BearerToken _check = new(Token);

    [Theory]
    [InlineData("Bearer " + Token)]
    [InlineData("bearer " + Token)]
    [InlineData("BEARER " + Token)]
    [InlineData("Bearer  " + Token + " ")]
    public void TheTokenUnderTheBearerScheme_Matches(string header) => Assert.True(_check.Matches(header));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData(Token)]
    [InlineData("Basic " + Token)]
    [InlineData("Token " + Token)]
    [InlineData("Bearer" + Token)]
    [InlineData("Bearer s3cret-token-012345678")]
    [InlineData("Bearer s3cret-token-01234567890")]
    [InlineData("Bearer s3cret-token-012345678X")]
    [InlineData("Bearer X3cret-token-0123456789")]
    [InlineData("Bearer S3CRET-TOKEN-0123456789")]
    [InlineData("Bearer " + Token + ", Bearer " + Token)]
    [InlineData("Bearer s3cret-token-0123456789\u0000")]
    public void AnythingElse_DoesNotMatch(string? header) => Assert.False(_check.Matches(header));

    [Fact]
    public void AnEmptyExpectedToken_IsRefused() => Assert.Throws<ArgumentException>(() => new BearerToken(""));
}
