using LogQuota.Server.Runs;

namespace LogQuota.Server.Teams;

/// <summary>What a users or projects operation came to: its answer, or the problem that refused it (never both).</summary>
/// <param name="Value">The answer; null when refused, and after a delete.</param>
/// <param name="Problem">Why it was refused; null when it was done.</param>
public sealed record TeamOutcome<T>(T? Value, RunProblem? Problem)
    where T : class;

/// <summary>Makes <see cref="TeamOutcome{T}"/>s.</summary>
public static class TeamOutcome
{
    public static TeamOutcome<T> Done<T>(T? value)
        where T : class => new(value, null);

    public static TeamOutcome<T> Refused<T>(RunProblem problem)
        where T : class => new(null, problem);
}
