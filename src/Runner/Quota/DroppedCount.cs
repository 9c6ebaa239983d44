namespace LogQuota.Runner.Quota;

/// <summary>How many bytes and lines of a bucket's job output were not stored, whatever the action dropped them for.</summary>
internal sealed class DroppedCount
{
    private bool _endsWithNewline = true;

    /// <summary>Bytes dropped since the last <see cref="Clear"/>.</summary>
    public long Bytes { get; private set; }

    /// <summary>Lines dropped: <c>\n</c>-terminated ones, and a last one without its <c>\n</c> yet.</summary>
    public long Lines { get; private set; }

    /// <summary>Counts dropped text.</summary>
    public void Add(ReadOnlySpan<byte> text)
    {
        if (text.IsEmpty)
        {
            return;
        }

        Lines += text.Count((byte)'\n') + (_endsWithNewline ? 1 : 0) - (text[^1] == '\n' ? 1 : 0);
        _endsWithNewline = text[^1] == '\n';
        Bytes += text.Length;
    }

    /// <summary>Forgets everything (a new bucket).</summary>
    public void Clear()
    {
        Bytes = 0;
        Lines = 0;
        _endsWithNewline = true;
    }
}
