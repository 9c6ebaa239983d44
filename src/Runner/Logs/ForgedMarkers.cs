using System.Buffers;
using LogQuota.Runner.Quota;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Logs;

/// <summary>
/// Keeps the job from printing a line that passes for one of the runner's own markers (SPEC §7). Only the runner's
/// lines begin with <c>[logquota] </c>; a line of the job's output that begins so is stored with a backslash before
/// it (<c>\[logquota] ...</c>), visible in every text view — <c>?format=text</c>, the CLI, the download, the web
/// page — which show the stored bytes and so cannot be fooled. The escape is part of the stored text and counts
/// against the quota like any other byte. Lines that begin otherwise, the vast majority, pass through uncopied.
/// </summary>
internal sealed class ForgedMarkers
{
    /// <summary>The byte put before a job line that begins with the marker prefix.</summary>
    public const byte Escape = (byte)'\\';

    private static readonly byte[] Prefix = System.Text.Encoding.ASCII.GetBytes(QuotaText.MarkerPrefix);

    private static readonly byte[] PrefixAfterNewline = System.Text.Encoding.ASCII.GetBytes("\n" + QuotaText.MarkerPrefix);

    private readonly ArrayBufferWriter<byte> _escaped = new(4096);
    private readonly List<int> _escapedAt = [];

    /// <summary>Whether the next byte offered starts a line: stored text may end mid-line (a stale line stored whole).</summary>
    private bool _atLineStart = true;

    /// <summary>
    /// <paramref name="text"/> as it must be stored: itself when no line in it begins with the marker prefix, else a
    /// copy with the escape before each such line. The copy is valid until the next call.
    /// </summary>
    public ReadOnlySpan<byte> Defuse(ReadOnlySpan<byte> text)
    {
        _escapedAt.Clear();
        if (text.IsEmpty)
        {
            return text;
        }

        var startedAtLineStart = _atLineStart;
        _atLineStart = text[^1] == '\n';
        if (!HasForgedLine(text, startedAtLineStart))
        {
            return text;
        }

        _escaped.ResetWrittenCount();
        var lineStart = startedAtLineStart;
        var rest = text;
        while (!rest.IsEmpty)
        {
            var newline = rest.IndexOf((byte)'\n');
            var line = newline < 0 ? rest : rest[..(newline + 1)];
            if (lineStart && line.StartsWith(Prefix))
            {
                _escapedAt.Add(text.Length - rest.Length);
                _escaped.Write([Escape]);
            }

            _escaped.Write(line);
            rest = rest[line.Length..];
            lineStart = true;
        }

        return _escaped.WrittenSpan;
    }

    /// <summary>
    /// Where offset <paramref name="offset"/> of the text given to the last <see cref="Defuse"/> is in what it returned:
    /// moved by each escape put before a line that starts at or before it (style runs follow their text).
    /// </summary>
    public int Moved(int offset)
    {
        int moved = offset;
        foreach (int at in _escapedAt)
        {
            if (at <= offset)
            {
                moved++;
            }
        }

        return moved;
    }

    /// <summary>One vectorised search: the common chunk holds no forged line and is never copied.</summary>
    private static bool HasForgedLine(ReadOnlySpan<byte> text, bool atLineStart) =>
        (atLineStart && text.StartsWith(Prefix)) || text.IndexOf(PrefixAfterNewline) >= 0;
}
