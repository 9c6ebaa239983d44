using System.Buffers;
using System.Text.Json;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using LogQuota.Shared.Logs;

namespace LogQuota.Server.Logs;

/// <summary>
/// The text views of a stored log, one event after another: <c>format=text</c> is the stored bytes as they are (what
/// the quota counted); <c>format=ansi</c> adds the SGR and OSC 8 sequences rebuilt from the style runs; with
/// <c>timestamps=true</c> each line starts with the time its event was stored (ISO 8601 UTC, milliseconds) and a space.
/// Neither the sequences nor the times are part of the stored text.
/// </summary>
/// <param name="ansi">Rebuild the style runs as sequences.</param>
/// <param name="timestamps">Start each line with its storing time.</param>
internal sealed class LogTextWriter(bool ansi, bool timestamps)
{
    private bool _atLineStart = true;

    /// <summary>True when the view is the stored bytes alone, copied as they are.</summary>
    public bool Plain => !ansi && !timestamps;

    public void Write(LogEventEntity e, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(output);
        if (Plain)
        {
            output.Write(e.Message);
            return;
        }

        var styles = ansi ? ReadStyles(e.Styles) : null;
        var stamp = timestamps ? StyledText.Stamp(DateTimeOffset.FromUnixTimeMilliseconds(e.Timestamp)) : null;
        StyledText.WriteLines(e.Message, styles, stamp, ref _atLineStart, output);
    }

    /// <summary>A stored <c>styles</c> column as runs; null for none (or, never expected, text that is not runs).</summary>
    public static LogStyles? ReadStyles(string? column)
    {
        if (column is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<LogStyles>(column, LogQuotaJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
