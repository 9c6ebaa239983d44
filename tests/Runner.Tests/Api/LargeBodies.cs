using System.Net;
using System.Net.Http.Headers;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>Sending bodies that the service refuses for their size.</summary>
public static class LargeBodies
{
    /// <summary>
    /// Asks for <c>Expect: 100-continue</c> when the body is larger than the services accept, as curl does for large
    /// uploads: a service that refuses the body by its Content-Length answers 413 before any of it is sent. Without
    /// it the client may still be writing when the service, having answered, closes the connection, and the test sees
    /// a broken pipe instead of the 413 it is there to check.
    /// </summary>
    public static HttpRequestMessage WaitForContinueIfOversize(this HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Content is ChunkedContent || request.Content?.Headers.ContentLength > JobSpecRules.MaxBodyBytes)
        {
            request.Headers.ExpectContinue = true;
        }

        return request;
    }
}

/// <summary>A body sent without a Content-Length (chunked), so only a limit enforced while reading can stop it.</summary>
public sealed class ChunkedContent : HttpContent
{
    private readonly byte[] _bytes;

    public ChunkedContent(byte[] bytes, string contentType)
    {
        _bytes = bytes;
        Headers.ContentType = new MediaTypeHeaderValue(contentType);
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var offset = 0; offset < _bytes.Length; offset += 64 * 1024)
        {
            await stream.WriteAsync(_bytes.AsMemory(offset, Math.Min(64 * 1024, _bytes.Length - offset)));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
