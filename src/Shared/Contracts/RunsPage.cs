namespace LogQuota.Shared.Contracts;

/// <summary>Answer of <c>GET /api/runs</c>: one page of the <c>ps</c> list, newest first.</summary>
/// <param name="Runs">At most <c>limit</c> rows, newest submitted first.</param>
/// <param name="NextToken">Pass as <c>next_token</c> (with the same <c>only_active</c>) for the next, older page; null on the last page.</param>
public sealed record RunsPage(IReadOnlyList<RunRow> Runs, string? NextToken);
