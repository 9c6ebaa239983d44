using System.Buffers;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Logs;

namespace LogQuota.Cli.Logs;

/// <summary>
/// How the CLI shows stored log events: the stored bytes as they are, or, on a terminal that takes colour, with the
/// style runs rebuilt as SGR and OSC 8 sequences, and with <c>--timestamps</c> each line after the time it was stored.
/// </summary>
/// <param name="colour">Rebuild the colours and links (standard output is a terminal, <c>NO_COLOR</c> unset).</param>
/// <param name="timestamps">Start each line with its storing time.</param>
public sealed class LogView(bool colour, bool timestamps)
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private bool _atLineStart = true;

    /// <summary>True when the view adds nothing to the stored bytes.</summary>
    public bool Plain => !colour && !timestamps;

    /// <summary>True when colours and links are rebuilt.</summary>
    public bool Colour => colour;

    /// <summary>True when each line starts with its storing time.</summary>
    public bool Timestamps => timestamps;

    /// <summary>The bytes to show for <paramref name="e"/>; valid until the next call.</summary>
    public ReadOnlyMemory<byte> Render(RunLogEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (Plain)
        {
            return e.Message;
        }

        _buffer.ResetWrittenCount();
        StyledText.WriteLines(e.Message, colour ? e.Styles : null, timestamps ? StyledText.Stamp(e.Timestamp) : null, ref _atLineStart, _buffer);
        return _buffer.WrittenMemory;
    }
}
