using System.Text.RegularExpressions;
using LogQuota.Server.Data;
using LogQuota.Server.Logs;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis;

/// <summary><c>GET /api/runs/{run_name}/logs?q=...</c> and <c>?line=N</c>: a search of a run's log, or one line of it,
/// with line numbers, read through <see cref="LogSearch"/> in bounded memory.</summary>
internal static class LogSearchApi
{
    public static async Task<Results<Ok<LogsResponse>, Ok<LogSearchResponse>, FileContentHttpResult, PushStreamHttpResult, ProblemHttpResult>> SearchAsync(
        Guid projectId, string runName, LogsParameters parameters, ServerDbContext db, LogSearchTokens tokens, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!LogSearchQuery.TryParse(parameters, out var query, out var problem))
        {
            return BadRequest(problem);
        }

        var jobId = await db.Jobs.AsNoTracking()
            .Where(j => j.Run.ProjectId == projectId && j.Run.RunName == runName)
            .OrderBy(j => j.SubmittedAt)
            .Select(j => (Guid?)j.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (jobId is not { } job)
        {
            return TypedResults.Problem(detail: $"Run '{runName}' does not exist.", statusCode: StatusCodes.Status404NotFound);
        }

        var from = LogSearchPosition.Start;
        if (query.NextToken is not null && !tokens.TryRead(query.NextToken, job, out from))
        {
            return BadRequest("next_token is not a token this server issued for a search of this run's log.");
        }

        try
        {
            var page = await LogSearch.ReadAsync(
                db.LogEvents.AsNoTracking().Where(e => e.JobId == job), from, query.Target, query.Limit, time, cancellationToken);
            return TypedResults.Ok(new LogSearchResponse(page.Lines, page.Next is { } next ? tokens.Create(job, next) : null, page.LastLine));
        }
        catch (RegexMatchTimeoutException)
        {
            return BadRequest(
                $"The regular expression took longer than {LogLinePattern.MatchTimeout.TotalSeconds:0.#} s on one line and was stopped; " +
                "simplify it (nested repeats such as (a+)+ can take forever) or search for a plain substring.");
        }
    }

    private static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
