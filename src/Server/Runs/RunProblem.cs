using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Runs;

/// <summary>
/// Why <see cref="RunsService"/> refused: the detail in the user's words, the HTTP status the API answers with, and,
/// for a request that breaks the rules, the problems by JSON field.
/// </summary>
/// <param name="Status">The status the API answers with (400, 404, 409).</param>
/// <param name="Detail">What is wrong and what to do, in the user's words.</param>
/// <param name="Errors">The problems by JSON field, for a request that breaks the rules; null otherwise.</param>
/// <param name="RetryAfterSeconds">For a refusal that passes (503): when to try again, sent as <c>Retry-After</c>.</param>
public sealed record RunProblem(int Status, string Detail, IDictionary<string, string[]>? Errors = null, int? RetryAfterSeconds = null)
{
    /// <summary>A run asks for resources, and no runner answered the question whether one can give them.</summary>
    public static RunProblem NoRunnerAnswered() =>
        new(StatusCodes.Status503ServiceUnavailable,
            "No runner answered its health check, so the server cannot tell whether one can give the resources asked; try again shortly.",
            RetryAfterSeconds: 5);

    public static RunProblem NotFound(string runName) => new(StatusCodes.Status404NotFound, $"Run '{runName}' does not exist.");

    public static RunProblem NameTaken(string runName) =>
        new(StatusCodes.Status409Conflict, $"A run named '{runName}' already exists; choose another run_name or delete it first.");

    public static RunProblem Invalid(Dictionary<string, string[]> errors) =>
        new(StatusCodes.Status400BadRequest, string.Join(" ", errors.Values.SelectMany(m => m)), errors);
}

/// <summary>What a runs operation came to: the run as it is now, or the problem that refused it (never both).</summary>
/// <param name="Run">The run's details; null when refused, and after a delete.</param>
/// <param name="Problem">Why it was refused; null when it was done.</param>
public sealed record RunOutcome(RunDetails? Run, RunProblem? Problem)
{
    public static RunOutcome Done(RunDetails? run) => new(run, null);

    public static RunOutcome Refused(RunProblem problem) => new(null, problem);
}
