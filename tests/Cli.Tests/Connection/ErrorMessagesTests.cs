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
        Assert.Equal("the server rejected the token (set DSTACK_TOKEN or --token to your token on this server, or its admin token)", ErrorMessages.ForStatus(HttpStatusCode.Unauthorized, null, WithToken, null));
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

/// <summary>Real connections on loopback that fail: each is explained in one line saying what to do.</summary>
public sealed class ConnectionFailureMessagesTests
{
    [Fact]
    public async Task Https_ToAPlainHttpServer_IsExplainedAsATlsFailure()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var serving = AnswerPlainHttpAsync(listener);

        var line = await DescribeFailureAsync(new Uri($"https://127.0.0.1:{port}"));
        await serving;

        Assert.StartsWith($"cannot make a TLS connection to https://127.0.0.1:{port} (", line, StringComparison.Ordinal);
        Assert.EndsWith("use http:// unless a TLS proxy is in front, and then check that its certificate is trusted", line, StringComparison.Ordinal);
        Assert.DoesNotContain("inner exception", line, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APortWhereNothingListens_IsConnectionRefused()
    {
        // A port bound and never listened on, held for the whole test: a connection to it is refused, and no one else can
        // take it meanwhile. A port freed before connecting could be taken by another test's server (a parallel run binds
        // ports all the time): the connection then reached it and was reset ("Transport endpoint is not connected").
        using var bound = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)bound.LocalEndPoint!).Port;

        var line = await DescribeFailureAsync(new Uri($"http://127.0.0.1:{port}"));

        Assert.Equal($"cannot reach the server at http://127.0.0.1:{port}: nothing listens there (connection refused); is the server running?", line);
    }

    private static async Task<string> DescribeFailureAsync(Uri url)
    {
        var connection = new ServerConnection(url, "t", null);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(new Uri(url, "/api/healthcheck")));
        return Assert.IsType<string>(ErrorMessages.Describe(e, connection, null));
    }

    /// <summary>Accepts one connection and answers its first bytes (a TLS client hello) as a plain HTTP server would.</summary>
    private static async Task AnswerPlainHttpAsync(System.Net.Sockets.TcpListener listener)
    {
        using var socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(90));
        var buffer = new byte[4096];
        await socket.ReceiveAsync(buffer);
        await socket.SendAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
        socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
    }
}
