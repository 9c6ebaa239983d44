namespace LogQuota.Runner.Logs.Sections;

/// <summary>What a marker line does.</summary>
internal enum SectionLineKind
{
    /// <summary>GitHub's <c>::group::TITLE</c>: a group begins, its title the line's header.</summary>
    GithubGroup,

    /// <summary>GitHub's <c>::endgroup::</c>.</summary>
    GithubEnd,

    /// <summary>Buildkite's <c>--- TITLE</c>, <c>~~~ TITLE</c> (collapsed) or <c>+++ TITLE</c> (expanded): a group begins and ends the one before.</summary>
    BuildkiteGroup,

    /// <summary>Buildkite's <c>^^^ +++</c>: the group before opens.</summary>
    BuildkiteExpand,
}

/// <summary>
/// A marker line found in stored text: <paramref name="Removed"/> bytes of marker syntax at <paramref name="Start"/>
/// are taken out (the whole line, line end included, for an end or an expand; the marker alone for a group, whose
/// title stays as the section's first line).
/// </summary>
internal readonly record struct SectionLine(int Start, int Removed, SectionLineKind Kind, bool Collapsed, string Name);

/// <summary>
/// Finds GitHub's and Buildkite's section markers in stored text: whole lines that begin with the marker, which
/// survive the screen as they were written (unlike GitLab's, see <see cref="GitlabMarkers"/>). Most text holds none
/// and is searched without a copy.
/// </summary>
internal sealed class SectionLines
{
    private static readonly (byte[] Prefix, SectionLineKind Kind, bool Collapsed, string Name)[] Markers =
    [
        ("::group::"u8.ToArray(), SectionLineKind.GithubGroup, true, "group"),
        ("::endgroup::"u8.ToArray(), SectionLineKind.GithubEnd, false, "endgroup"),
        ("--- "u8.ToArray(), SectionLineKind.BuildkiteGroup, true, "---"),
        ("~~~ "u8.ToArray(), SectionLineKind.BuildkiteGroup, true, "~~~"),
        ("+++ "u8.ToArray(), SectionLineKind.BuildkiteGroup, false, "+++"),
        ("^^^ +++"u8.ToArray(), SectionLineKind.BuildkiteExpand, false, "^^^ +++"),
    ];

    private static readonly byte[][] AfterNewline = [.. Markers.Select(m => (byte[])[(byte)'\n', .. m.Prefix])];

    /// <summary>Whether the next byte offered starts a line (stored text may end mid-line: a stale line stored whole).</summary>
    private bool _atLineStart = true;

    /// <summary>Adds the marker lines of <paramref name="text"/> to <paramref name="found"/>, in order.</summary>
    public void Find(ReadOnlySpan<byte> text, List<SectionLine> found)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var lineStart = _atLineStart;
        _atLineStart = text[^1] == '\n';
        if (!MayHold(text, lineStart))
        {
            return;
        }

        var at = 0;
        while (at < text.Length)
        {
            var newline = text[at..].IndexOf((byte)'\n');
            var end = newline < 0 ? text.Length : at + newline + 1;
            if (lineStart && Match(text[at..end]) is { } match)
            {
                found.Add(match with { Start = at });
            }

            at = end;
            lineStart = true;
        }
    }

    private static SectionLine? Match(ReadOnlySpan<byte> line)
    {
        foreach (var (prefix, kind, collapsed, name) in Markers)
        {
            if (!line.StartsWith(prefix))
            {
                continue;
            }

            switch (kind)
            {
                case SectionLineKind.GithubEnd or SectionLineKind.BuildkiteExpand:
                    // Only the marker on its line (trailing blanks aside): anything else is a line of text.
                    return line[prefix.Length..].TrimEnd("\r\n \t"u8).IsEmpty ? new SectionLine(0, line.Length, kind, collapsed, name) : null;
                default:
                    return new SectionLine(0, prefix.Length, kind, collapsed, name);
            }
        }

        return null;
    }

    private static bool MayHold(ReadOnlySpan<byte> text, bool atLineStart)
    {
        foreach (var (prefix, _, _, _) in Markers)
        {
            if (atLineStart && text.StartsWith(prefix))
            {
                return true;
            }
        }

        foreach (var needle in AfterNewline)
        {
            if (text.IndexOf(needle) >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
