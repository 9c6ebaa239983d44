using System.Threading.Channels;

namespace LogQuota.Cli.Terminal;

/// <summary>
/// Ctrl-C as the commands see it. By default an interrupt cancels <see cref="Token"/> and the command ends;
/// while a command has <see cref="Capture">captured</see> interrupts (<c>run</c> asking "stop or detach?"),
/// each one is delivered to it instead.
/// </summary>
public sealed class Interrupts : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private Channel<bool>? _captured;

    /// <summary>Cancelled by an interrupt that nobody captured.</summary>
    public CancellationToken Token => _cancel.Token;

    /// <summary>Delivers one interrupt (Ctrl-C, or a test standing in for it).</summary>
    public void Raise()
    {
        var captured = Volatile.Read(ref _captured);
        if (captured is not null)
        {
            captured.Writer.TryWrite(true);
        }
        else
        {
            _cancel.Cancel();
        }
    }

    /// <summary>Delivers interrupts to the returned capture until it is disposed.</summary>
    public InterruptCapture Capture()
    {
        var channel = Channel.CreateUnbounded<bool>();
        if (Interlocked.CompareExchange(ref _captured, channel, null) is not null)
        {
            throw new InvalidOperationException("Interrupts are already captured.");
        }

        return new InterruptCapture(channel.Reader, () => Interlocked.CompareExchange(ref _captured, null, channel));
    }

    /// <inheritdoc />
    public void Dispose() => _cancel.Dispose();
}

/// <summary>Interrupts delivered to one command; disposing gives them back to <see cref="Interrupts.Token"/>.</summary>
public sealed class InterruptCapture : IDisposable
{
    private readonly ChannelReader<bool> _reader;
    private readonly Action _release;

    internal InterruptCapture(ChannelReader<bool> reader, Action release)
    {
        _reader = reader;
        _release = release;
    }

    /// <summary>Completes at the next interrupt.</summary>
    public Task NextAsync(CancellationToken cancellationToken) => _reader.ReadAsync(cancellationToken).AsTask();

    /// <inheritdoc />
    public void Dispose() => _release();
}
