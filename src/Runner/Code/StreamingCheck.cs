using System.IO.Pipelines;

namespace LogQuota.Runner.Code;

/// <summary>
/// Checks an upload while it is being received: the receiving loop hands each chunk to <see cref="WriteAsync"/> as it
/// stores it, and <c>check</c> reads the same bytes at the same time from a stream of its own. So the check (a
/// decompression and a walk of the tar headers, a few hundred milliseconds for 50 MB) overlaps the transfer instead of
/// reading the stored file again after it. Used by the runner's and the server's <c>PUT /api/code</c>.
/// </summary>
/// <remarks>
/// A check that ends before the body does (it refused an entry, or read the end-of-archive blocks) stops taking
/// bytes; the loop goes on storing and hashing, so that a wrong hash is still reported first. At most
/// <see cref="BufferedBytes"/> wait between the two: a slow check slows the transfer rather than filling memory.
/// </remarks>
public sealed class StreamingCheck<T> : IAsyncDisposable
{
    /// <summary>Bytes received but not yet checked before the receiving loop waits: 1 MiB.</summary>
    public const int BufferedBytes = 1 << 20;

    private readonly Pipe _pipe = new(new PipeOptions(pauseWriterThreshold: BufferedBytes, resumeWriterThreshold: BufferedBytes / 2, useSynchronizationContext: false));
    private readonly Task<T> _check;
    private bool _checkEnded;
    private bool _completed;

    /// <summary>Starts <paramref name="check"/> on the thread pool; it reads the bytes given to <see cref="WriteAsync"/>, then the end of the stream.</summary>
    public StreamingCheck(Func<Stream, CancellationToken, Task<T>> check, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(check);
        _check = Task.Run(
            async () =>
            {
                await using var stream = _pipe.Reader.AsStream();
                return await check(stream, cancellationToken);
            },
            cancellationToken);
    }

    /// <summary>Hands the next received bytes to the check, waiting while it is more than <see cref="BufferedBytes"/> behind.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (_checkEnded)
        {
            return;
        }

        var result = await _pipe.Writer.WriteAsync(bytes, cancellationToken);
        _checkEnded = result.IsCompleted;
    }

    /// <summary>Ends the stream the check reads and returns what the check said; its exceptions are rethrown here.</summary>
    public async Task<T> CompleteAsync()
    {
        await CompleteWriterAsync();
        return await _check;
    }

    /// <summary>Ends the stream and waits for the check, whose result or failure no one wants any more (an upload cut off).</summary>
    public async ValueTask DisposeAsync()
    {
        await CompleteWriterAsync();
        try
        {
            await _check;
        }
        catch (Exception)
        {
            // The upload failed for its own reason, reported by the receiving loop; what the check made of its truncated bytes does not matter.
        }
    }

    private async ValueTask CompleteWriterAsync()
    {
        if (!_completed)
        {
            _completed = true;
            await _pipe.Writer.CompleteAsync();
        }
    }
}
