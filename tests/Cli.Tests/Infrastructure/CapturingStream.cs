namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>Standard output for a CLI running on another task: written by the command, read by the test at any moment.</summary>
public sealed class CapturingStream : Stream
{
    private readonly MemoryStream _bytes = new();
    private readonly Lock _lock = new();

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public byte[] ToArray()
    {
        lock (_lock)
        {
            return _bytes.ToArray();
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        lock (_lock)
        {
            _bytes.Write(buffer, offset, count);
        }
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _bytes.Dispose();
        }

        base.Dispose(disposing);
    }
}
