namespace LogQuota.Cli.Connection;

/// <summary>
/// How long a request may take: 30 s for every call, except a code upload (<c>PUT /api/code/...</c>), whose body may
/// take minutes on a slow link and is bounded only by Ctrl-C. The upload asks <c>Expect: 100-continue</c>, so a server
/// that refuses it (413 above its limit, 403 with uploads off) answers before any of the body is sent, and the CLI reads
/// that answer instead of a connection the server closed in the middle of the body. It waits for that answer as long as
/// for any other (<see cref="PerRequest"/>), not .NET's default of one second: a busy server that took longer would get
/// the body it was about to refuse, and the CLI a broken pipe instead of the refusal.
/// </summary>
public sealed class RequestTimeouts : DelegatingHandler
{
    /// <summary>How long one request may take before the server counts as not answering.</summary>
    public static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(30);

    /// <summary>Creates the handler over the real socket handler.</summary>
    public RequestTimeouts()
        : base(new SocketsHttpHandler { Expect100ContinueTimeout = PerRequest })
    {
    }

    /// <summary>The client every command uses: its own timeout is this handler's.</summary>
    public static HttpClient CreateClient() => new(new RequestTimeouts()) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>True for <c>PUT /api/code/{sha256}</c>.</summary>
    public static bool IsCodeUpload(HttpRequestMessage request) =>
        request?.Method == HttpMethod.Put && request.RequestUri?.AbsolutePath.StartsWith("/api/code/", StringComparison.Ordinal) == true;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (IsCodeUpload(request))
        {
            request.Headers.ExpectContinue = true;
            return await base.SendAsync(request, cancellationToken);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PerRequest);
        try
        {
            return await base.SendAsync(request, timeout.Token);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // The shape HttpClient.Timeout gives, which ErrorMessages turns into "did not answer in time".
            throw new TaskCanceledException($"The request was canceled after {PerRequest.TotalSeconds} seconds.", new TimeoutException(e.Message, e));
        }
    }
}
