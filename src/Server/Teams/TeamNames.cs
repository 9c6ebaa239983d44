using LogQuota.Server.Apis;
using LogQuota.Server.Runs;

namespace LogQuota.Server.Teams;

/// <summary>Users and projects are named as runs are (<c>^[a-z][a-z0-9-]{0,40}$</c>), so a name is safe in a URL and a label.</summary>
internal static class TeamNames
{
    /// <summary>Null when <paramref name="name"/> is a good name, else the 400 naming <paramref name="field"/>.</summary>
    public static RunProblem? Check(string field, string? name, string what) =>
        name is not null && RunNames.IsValid(name)
            ? null
            : RunProblem.Invalid(new Dictionary<string, string[]>(StringComparer.Ordinal)
            {
                [field] = [$"{what} must start with a lowercase letter and hold at most 41 lowercase letters, digits and dashes; got '{name}'."],
            });
}
