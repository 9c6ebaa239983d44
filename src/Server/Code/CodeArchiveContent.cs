using System.Net;
using System.Net.Http.Headers;
using LogQuota.Server.Data;

namespace LogQuota.Server.Code;

/// <summary>
/// An archive as the body of a <c>PUT /api/code/{sha256}</c> to a runner. It re-reads the chunks from the database each
/// time it is serialized: the resilience pipeline sends the same content again on a retry, which a
/// <see cref="StreamContent"/> over a read-once stream cannot do, and buffering 128 MiB to make it replayable would not do either.
/// </summary>
internal sealed class CodeArchiveContent : HttpContent
{
    private readonly CodeStore _store;
    private readonly CodeArchiveEntity _archive;

    public CodeArchiveContent(CodeStore store, CodeArchiveEntity archive)
    {
        _store = store;
        _archive = archive;
        Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _store.CopyToAsync(_archive, stream, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = _archive.SizeBytes;
        return true;
    }
}
