using LogQuota.Server.Data;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis.Lists;

/// <summary>The query of <c>GET /api/runs</c>, as sent: every value is checked by hand so a bad one gets a clear 400.</summary>
public sealed record RunsListParameters(
    [property: FromQuery(Name = "limit")] string? Limit,
    [property: FromQuery(Name = "next_token")] string? NextToken,
    [property: FromQuery(Name = "only_active")] string? OnlyActive);

/// <summary>
/// <c>GET /api/runs</c> (SPEC §4): a project's <c>ps</c> list, newest first, a page at a time. A page is a keyset range on the
/// (project_id, submitted_at, id) index, read backwards, so its cost is the page's rows whatever the number of stored runs;
/// <c>only_active</c> starts from the jobs' status index instead, so it costs the active jobs, not the finished ones.
/// </summary>
public static class RunsListApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static async Task<Results<Ok<RunsPage>, ProblemHttpResult>> ListRuns(
        ProjectRoute project, [AsParameters] RunsListParameters query, Caller caller, TeamAccess access,
        ServerDbContext db, RunsPageTokens tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(tokens);
        var (reached, refused) = await access.ProjectAsync(caller, project.Name, cancellationToken);
        if (reached is null)
        {
            return TypedResults.Problem(detail: refused!.Detail, statusCode: refused.Status);
        }

        if (!Paging.TryParseLimit(query.Limit, DefaultLimit, MaxLimit, out var limit, out var problem) ||
            !Paging.TryParseFlag("only_active", query.OnlyActive, out var onlyActive, out problem))
        {
            return BadRequest(problem);
        }

        RunCursor? cursor = null;
        if (query.NextToken is not null)
        {
            if (!tokens.TryRead(query.NextToken, onlyActive, out var read))
            {
                return BadRequest(
                    $"next_token is not a token this server issued for the runs list with only_active={(onlyActive ? "true" : "false")}; " +
                    "start again without next_token.");
            }

            cursor = read;
        }

        var (runs, nextToken) = await Paging.ReadAsync(
            Page(db, reached.ProjectId, onlyActive, cursor), limit,
            last => tokens.Create(onlyActive, new RunCursor(last.SubmittedAt.ToUnixTimeMilliseconds(), last.Id)), cancellationToken);

        // The page's jobs in a second short query by run id (the jobs' run_id index), rather than a join that the
        // planner could turn into a scan of every run.
        var runIds = runs.Select(r => r.Id).ToList();
        var jobs = await db.Jobs.AsNoTracking().Where(j => runIds.Contains(j.RunId)).ToListAsync(cancellationToken);
        var jobsByRun = jobs.ToLookup(j => j.RunId);
        foreach (var run in runs)
        {
            run.Jobs = [.. jobsByRun[run.Id]];
        }

        // What a provisioning job waits for (Slurm's pending reason): a third short query, only for those runs.
        var provisioning = jobs.Where(j => j.Status == JobStatus.Provisioning).Select(j => j.RunId).ToList();
        var waiting = provisioning.Count == 0
            ? []
            : (await db.RunEvents.AsNoTracking()
                .Where(e => provisioning.Contains(e.RunId) && RunViews.WaitingEvents.Contains(e.Type))
                .Select(e => new { e.RunId, e.Id, e.Message }).ToListAsync(cancellationToken))
                .GroupBy(e => e.RunId).ToDictionary(g => g.Key, g => g.MaxBy(e => e.Id)!.Message);

        // A run deleted between the two queries has no jobs left: it is left out rather than shown half.
        return TypedResults.Ok(new RunsPage([.. runs.Where(r => r.Jobs.Count > 0).Select(r => RunViews.ToRow(r, waiting.GetValueOrDefault(r.Id)))], nextToken));
    }

    /// <summary>The project's runs after <paramref name="cursor"/> (older, or as old with a smaller id), newest first.</summary>
    internal static IQueryable<RunEntity> Page(ServerDbContext db, Guid projectId, bool onlyActive, RunCursor? cursor)
    {
        var runs = db.Runs.AsNoTracking();
        if (onlyActive)
        {
            // Constants rather than a list parameter, so that every provider sees an IN over the (project, status)
            // index. The project is the job's own column: a condition on runs.project_id would lead the planner to walk
            // the project's every run instead.
            var active = db.Jobs
                .Where(j => j.ProjectId == projectId)
                .Where(j => j.Status == JobStatus.Submitted || j.Status == JobStatus.Provisioning ||
                    j.Status == JobStatus.Running || j.Status == JobStatus.Terminating)
                .Select(j => j.RunId);
            runs = runs.Where(r => active.Contains(r.Id));
        }
        else
        {
            runs = runs.Where(r => r.ProjectId == projectId);
        }

        if (cursor is { } c)
        {
            // The first condition is a plain range on the index; the second only breaks ties within one millisecond.
            var at = DateTimeOffset.FromUnixTimeMilliseconds(c.SubmittedAt);
            runs = runs.Where(r => r.SubmittedAt <= at && (r.SubmittedAt < at || r.Id.CompareTo(c.Id) < 0));
        }

        return runs.OrderByDescending(r => r.SubmittedAt).ThenByDescending(r => r.Id);
    }

    private static ProblemHttpResult BadRequest(string detail) => TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
