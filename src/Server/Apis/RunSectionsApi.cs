using LogQuota.Server.Data;
using LogQuota.Server.Logs;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Apis;

/// <summary><c>GET /api/runs/{run_name}/sections</c>: the folds of a run's log (GitLab, GitHub and Buildkite section markers), with their lines and durations.</summary>
public static class RunSectionsApi
{
    public static RouteGroupBuilder MapRunSectionsApi(this RouteGroupBuilder api, string names)
    {
        ArgumentNullException.ThrowIfNull(api);
        api.MapGet("/{run_name}/sections", GetSections).WithName($"Get{names}RunSections").ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    public static async Task<Results<Ok<LogSectionsResponse>, ProblemHttpResult>> GetSections(
        ProjectRoute project, [FromRoute(Name = "run_name")] string runName, Caller caller, TeamAccess access, ServerDbContext db,
        [FromServices] TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(access);
        ArgumentNullException.ThrowIfNull(db);
        var (reached, refused) = await access.ProjectAsync(caller, project.Name, cancellationToken);
        if (reached is null)
        {
            return TypedResults.Problem(detail: refused!.Detail, statusCode: refused.Status);
        }

        var job = await db.Jobs.AsNoTracking()
            .Where(j => j.Run.ProjectId == reached.ProjectId && j.Run.RunName == runName)
            .OrderBy(j => j.SubmittedAt)
            .Select(j => new { j.Id, j.Status, j.FinishedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (job is null)
        {
            return TypedResults.Problem(detail: $"Run '{runName}' does not exist.", statusCode: StatusCodes.Status404NotFound);
        }

        // At most a start, an end and an expand per section: the read is bounded whatever the job printed.
        var marks = await db.LogSectionMarks.AsNoTracking()
            .Where(m => m.JobId == job.Id)
            .OrderBy(m => m.Timestamp).ThenBy(m => m.Id)
            .Take(3 * LogSectionMarks.MaxSections)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new LogSectionsResponse(LogSections.Build(marks, job.Status, job.FinishedAt, time.GetUtcNow())));
    }
}
