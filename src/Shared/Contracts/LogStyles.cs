using System.Text.Json.Serialization;

namespace LogQuota.Shared.Contracts;

/// <summary>
/// The style runs of one log event's message: colours, bold, italic, underline, inverse and OSC 8 links as the job's
/// terminal showed them. Metadata beside the text, never part of it: the quota counts the message alone, and
/// <c>format=text</c> shows the message alone. Absent (null) for plain text, so plain output costs nothing.
/// </summary>
/// <param name="Styles">The distinct styles of this event, each once; runs refer to them by index.</param>
/// <param name="Runs">
/// Triples <c>start, length, style</c>: <c>length</c> bytes of the message from byte <c>start</c> are in
/// <c>Styles[style]</c>. In order, never overlapping, never across a line's end; bytes in no run are unstyled.
/// </param>
public sealed record LogStyles(IReadOnlyList<LogStyle> Styles, IReadOnlyList<int> Runs);

/// <summary>One style of <see cref="LogStyles.Styles"/>.</summary>
/// <param name="Sgr">
/// The SGR parameters that set it from the default, as a terminal reads them after <c>ESC [</c> and before <c>m</c>:
/// digits and <c>;</c> only (e.g. <c>1;31</c>, <c>38;5;208</c>, <c>48;2;0;0;139</c>); empty for a link alone.
/// </param>
/// <param name="Link">The OSC 8 hyperlink's target (an <c>http</c>, <c>https</c> or <c>mailto</c> URI), or null.</param>
public sealed record LogStyle(
    string Sgr,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Link = null);
