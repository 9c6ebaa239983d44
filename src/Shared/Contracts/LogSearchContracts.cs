namespace LogQuota.Shared.Contracts;

/// <summary>One line of a run's log, as a search (<c>?q=</c>) or a line look-up (<c>?line=</c>) answers it.</summary>
/// <param name="Line">The line's number in the whole stored log, from 1, as <c>format=text</c> would number it (a stored
/// event that does not end in a newline still ends its last line).</param>
/// <param name="Timestamp">When the runner stored the event holding the line (UTC, milliseconds).</param>
/// <param name="LogSource"><c>stdout</c> for the job's output, <c>runner</c> for the runner's <c>[logquota] </c> markers.</param>
/// <param name="Text">The line without its newline, decoded as UTF-8 (bytes that are not become U+FFFD).</param>
/// <param name="LineInEvent">The line's place in its stored event, from 0: <c>Line - LineInEvent</c> is the event's first line.</param>
public sealed record LogLine(long Line, DateTimeOffset Timestamp, LogSource LogSource, string Text, int LineInEvent);

/// <summary>A page of <c>GET /api/runs/{run_name}/logs?q=...</c> (or <c>?line=</c>).</summary>
/// <param name="Matches">The matching lines of this page, in log order.</param>
/// <param name="NextToken">Pass as <c>next_token</c> (with the same <c>q</c>) to go on after this page; null when the
/// search reached the end of the log.</param>
/// <param name="LastLine">The number of the last line this page read: at the end of the log, how many lines it has.</param>
public sealed record LogSearchResponse(IReadOnlyList<LogLine> Matches, string? NextToken, long LastLine);
