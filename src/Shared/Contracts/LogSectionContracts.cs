using System.Text.Json.Serialization;

namespace LogQuota.Shared.Contracts;

/// <summary>What a <see cref="LogSectionMark"/> says about its section.</summary>
public enum LogSectionMarkKind
{
    /// <summary>The section begins before line <see cref="LogSectionMark.Line"/>.</summary>
    Start,

    /// <summary>The section ends before line <see cref="LogSectionMark.Line"/>.</summary>
    End,

    /// <summary>The section is to be shown open (Buildkite's <c>^^^ +++</c>).</summary>
    Expand,
}

/// <summary>The log format whose marker made a section.</summary>
public enum LogSectionFormat
{
    /// <summary>GitLab's <c>section_start</c> / <c>section_end</c> (nested).</summary>
    Gitlab,

    /// <summary>GitHub Actions' <c>::group::</c> / <c>::endgroup::</c> (flat).</summary>
    Github,

    /// <summary>Buildkite's <c>---</c>, <c>~~~</c>, <c>+++</c> (flat; each ends the one before).</summary>
    Buildkite,
}

/// <summary>
/// One section marker a job printed, as the runner recognised it: a fold of the job's stored log begins or ends before a
/// line. The marker's own text is never stored or counted; the section's title is its first stored line.
/// </summary>
/// <param name="Timestamp">On the job's journal clock (milliseconds since the Unix epoch), as log events are: the runner's time, not the marker's.</param>
/// <param name="Kind">Start, end or expand.</param>
/// <param name="Section">The section's number in the job, from 1, the same on all of its marks.</param>
/// <param name="Line">The number (from 1, as the logs' line look-up numbers them) of the first stored line at or after the marker.</param>
/// <param name="Format">The marker's format (on a start).</param>
/// <param name="Name">GitLab's section name, or the format's name for the others (on a start; at most 64 characters).</param>
/// <param name="Title">The header text after the marker, secrets masked (on a start; at most 200 characters).</param>
/// <param name="Parent">The enclosing section's number, if any (on a start).</param>
/// <param name="Collapsed">Whether the marker asks for the section folded (on a start).</param>
public sealed record LogSectionMark(
    long Timestamp,
    LogSectionMarkKind Kind,
    int Section,
    long Line,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] LogSectionFormat? Format = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Name = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Title = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Parent = null,
    bool Collapsed = false);

/// <summary>One fold of a run's log, as <c>GET /api/runs/{run_name}/sections</c> answers it.</summary>
/// <param name="Id">The section's number in the run's job, from 1, in the order the sections began.</param>
/// <param name="Parent">The enclosing section's number, or null at the top.</param>
/// <param name="Format"><c>gitlab</c>, <c>github</c> or <c>buildkite</c>: the marker that made it.</param>
/// <param name="Name">GitLab's section name; <c>group</c> for GitHub's, the marker for Buildkite's.</param>
/// <param name="Title">The header text (secrets masked); the section's first stored line is this header.</param>
/// <param name="StartLine">Its first line (the header), numbered from 1 as the logs' line look-up numbers lines.</param>
/// <param name="EndLine">The first line after it; null when it runs to the end of the log (still open, or open when the job ended).</param>
/// <param name="StartedAt">When the runner read its start marker.</param>
/// <param name="EndedAt">When the runner read its end (the job's end for a section left open); null while it is open in a running job.</param>
/// <param name="DurationMs">From start to end (to now while open in a running job), in milliseconds.</param>
/// <param name="Collapsed">Whether it is shown folded at first: as its marker asked, except the failing section and those around it, which open.</param>
/// <param name="Failed">The failing section: the innermost one still open when the job ended failed or terminated.</param>
public sealed record LogSection(
    int Id,
    int? Parent,
    LogSectionFormat Format,
    string Name,
    string Title,
    long StartLine,
    long? EndLine,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    long DurationMs,
    bool Collapsed,
    bool Failed);

/// <summary>Answer of <c>GET /api/runs/{run_name}/sections</c>: every section of the run's log, in the order they began.</summary>
public sealed record LogSectionsResponse(IReadOnlyList<LogSection> Sections);
