using LogQuota.Server.Runs;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Server.Apis;

/// <summary>A service's refusal as the API answers it: RFC 7807 problem details, with the field errors when there are some.</summary>
internal static class ApiProblems
{
    public static ProblemHttpResult From(RunProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return TypedResults.Problem(
            detail: problem.Detail,
            statusCode: problem.Status,
            extensions: problem.Errors is { } errors ? new Dictionary<string, object?>(StringComparer.Ordinal) { ["errors"] = errors } : null);
    }
}
