using System.Net;
using LogQuota.Cli.Connection;

namespace LogQuota.Cli.Tests.Connection;

public sealed class ErrorMessagesTests
{
    private static readonly ServerConnection WithToken = new(new Uri("http://127.0.0.1:3000"), "t", null);

    [Fact]
    public void ProblemDetail_IsTheMessage()
    {
        const string Body = """{"type":"about:blank","title":"Bad Request","status":400,"detail":"log_quota_hour 99 is above\nthe server's 10."}""";
        Assert.Equal("log_quota_hour 99 is above the server's 10.", ErrorMessages.ForStatus(HttpStatusCode.BadRequest, Body, WithToken, null));
    }

    [Fact]
    public void NotFound_NamesTheRun() =>
        Assert.Equal("run r1 not found", ErrorMessages.ForStatus(HttpStatusCode.NotFound, """{"detail":"Run 'r1' does not exist."}""", WithToken, "r1"));

    [Fact]
    public void Unauthorized_SaysHowToSetTheToken()
    {
        Assert.Equal("the server rejected the token (set DSTACK_TOKEN or --token)", ErrorMessages.ForStatus(HttpStatusCode.Unauthorized, null, WithToken, null));
        var noToken = new ServerConnection(new Uri("http://127.0.0.1:3000"), null, "/home/u/.logquota/server/admin-token");
        Assert.Equal(
            "the server asks for a token and none was found (set DSTACK_TOKEN or --token; no token in /home/u/.logquota/server/admin-token)",
            ErrorMessages.ForStatus(HttpStatusCode.Unauthorized, null, noToken, null));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("<html>bad gateway</html>")]
    [InlineData("""{"title":"x"}""")]
    public void BodyWithoutDetail_FallsBackToTheStatusLine(string? body) =>
        Assert.Equal("the server answered 502 Bad Gateway", ErrorMessages.ForStatus(HttpStatusCode.BadGateway, body, WithToken, null));

    [Fact]
    public void UnknownException_IsLeftToTheCaller() =>
        Assert.Null(ErrorMessages.Describe(new InvalidOperationException("x"), WithToken, null));
}
