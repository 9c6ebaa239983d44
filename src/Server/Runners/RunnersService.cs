using LogQuota.Server.Data;
using LogQuota.Server.Configuration;
using LogQuota.Server.Runs;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Runners;

/// <summary>
/// What can be done to runners at run time: list, add, drain, remove. The API's endpoints and the web page both call it.
/// Every change is one transaction on the <c>runners</c> table, which every replica reads (<see cref="RunnerWatch"/>).
/// </summary>
public sealed class RunnersService(
    ServerDbContext db,
    RunnerPool pool,
    RunnerCheck check,
    ServerSettings settings,
    TimeProvider time,
    ILogger<RunnersService> logger)
{
    /// <summary>The statuses of a job a runner holds: it counts against the runner's capacity.</summary>
    internal static readonly JobStatus[] OnRunner = [JobStatus.Provisioning, JobStatus.Running, JobStatus.Terminating];

    /// <summary>Every runner, the local one first, then by name.</summary>
    public async Task<RunnersList> ListAsync(CancellationToken cancellationToken)
    {
        var stored = await db.Runners.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken);
        pool.Update(stored);
        var jobs = await JobCountsAsync(cancellationToken);
        var views = new List<RunnerView>();
        if (pool.LocalUrl is { } local && pool.LocalHealth is { } health)
        {
            views.Add(new RunnerView(RunnerPool.LocalName, local, RunnerState.Active, jobs.GetValueOrDefault(local), health.MaxJobs, health.Isolation, health.RunnerId));
        }

        views.AddRange(stored.Select(r => View(r, jobs.GetValueOrDefault(r.Url))));
        return new RunnersList(views);
    }

    /// <summary>Adds the runner at <c>url</c> once it has answered with the shared runner token.</summary>
    public async Task<RunnerOutcome> AddAsync(AddRunnerRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!RunnerAddress.TryParse(request.Url, out var url))
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status400BadRequest,
                $"url {JobSpecRules.Quote(request.Url ?? "")} must be a runner's http(s) base URL such as http://10.0.0.5:10999, without a query or a user name."));
        }

        if (request.Name is { } asked && (!JobSpecRules.IsValidRunName(asked) || asked == RunnerPool.LocalName))
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status400BadRequest,
                $"name {JobSpecRules.Quote(asked)} must match {JobSpecRules.RunNamePattern} (a lowercase letter, then up to 40 lowercase letters, digits or dashes) and not be '{RunnerPool.LocalName}'."));
        }

        HealthcheckResponse health;
        try
        {
            health = await check.HealthAsync(url, cancellationToken);
            await check.TokenAsync(url, cancellationToken);
        }
        catch (RunnerCheckException e)
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status422UnprocessableEntity, $"The runner was not added: {e.Message}"));
        }

        if (health.RunnerId is null)
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status422UnprocessableEntity,
                $"The runner was not added: {url} does not report its identity (runner_id); it is an older runner, upgrade it first."));
        }

        if (pool.LocalHealth?.RunnerId == health.RunnerId)
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status409Conflict, $"{url} is this server's own local runner, listed as '{RunnerPool.LocalName}'."));
        }

        var known = await db.Runners.AsNoTracking()
            .FirstOrDefaultAsync(r => r.RunnerId == health.RunnerId || r.Url == url.ToString() || r.Name == request.Name, cancellationToken);
        if (known is not null)
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status409Conflict, known.RunnerId == health.RunnerId || known.Url == url.ToString()
                ? $"That runner is already added, as '{known.Name}' at {known.Url} (the same runner_id {health.RunnerId})."
                : $"A runner named '{known.Name}' already exists; choose another name or remove it first."));
        }

        var taken = await db.Runners.Select(r => r.Name).ToListAsync(cancellationToken);
        var entity = new RunnerEntity
        {
            Name = request.Name ?? RunnerAddress.Unique(RunnerAddress.NameFrom(url), taken),
            Url = url.ToString(),
            AddedAt = time.GetUtcNow(),
        };
        Observe(entity, health);
        db.Runners.Add(entity);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (!cancellationToken.IsCancellationRequested)
        {
            // Another replica or request stored the same runner or name in between (a unique index said no).
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status409Conflict,
                $"A runner with that name, address or identity was added at the same moment; list the runners (GET /api/runners) and try again."));
        }

        logger.LogInformation("Runner {Name} added at {RunnerUrl} (runner id {RunnerId}, capacity {MaxJobs})", entity.Name, entity.Url, entity.RunnerId, entity.MaxJobs);
        pool.Update(await db.Runners.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken));
        pool.Report(entity.Url, healthy: true);
        return RunnerOutcome.Done(View(entity, 0));
    }

    /// <summary>Stops new jobs going to runner <paramref name="name"/>; the jobs it holds run to their end.</summary>
    public async Task<RunnerOutcome> DrainAsync(string name, CancellationToken cancellationToken)
    {
        if (name == RunnerPool.LocalName && pool.LocalUrl is not null)
        {
            return RunnerOutcome.Refused(LocalRefusal("drained"));
        }

        var changed = await db.Runners.Where(r => r.Name == name).ExecuteUpdateAsync(s => s.SetProperty(r => r.Draining, true), cancellationToken);
        if (changed == 0)
        {
            return RunnerOutcome.Refused(NotFound(name));
        }

        logger.LogInformation("Runner {Name} is draining: no new job goes to it", name);
        var list = await ListAsync(cancellationToken);
        return RunnerOutcome.Done(list.Runners.Single(r => r.Name == name));
    }

    /// <summary>Removes runner <paramref name="name"/>, only once it holds no job (409 while it does).</summary>
    public async Task<RunnerOutcome> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        if (name == RunnerPool.LocalName && pool.LocalUrl is not null)
        {
            return RunnerOutcome.Refused(LocalRefusal("removed"));
        }

        // The runner's row is locked until the delete commits, and assignment locks the rows it assigns to (on PostgreSQL;
        // SQLite has one writer): no job can be given to it between the count and the delete.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var runner = settings.DatabaseProvider == DatabaseProvider.Postgres
            ? await db.Runners.FromSqlInterpolated($"SELECT * FROM runners WHERE name = {name} FOR UPDATE").SingleOrDefaultAsync(cancellationToken)
            : await db.Runners.SingleOrDefaultAsync(r => r.Name == name, cancellationToken);
        if (runner is null)
        {
            return RunnerOutcome.Refused(NotFound(name));
        }

        var held = await db.Jobs.CountAsync(j => j.Runner == runner.Url && !j.RunnerReleased, cancellationToken);
        if (held > 0)
        {
            return RunnerOutcome.Refused(new RunProblem(StatusCodes.Status409Conflict,
                $"Runner '{name}' still holds {held} job{(held == 1 ? "" : "s")}; drain it (POST /api/runners/{name}/drain), wait until its jobs end, then remove it."));
        }

        db.Runners.Remove(runner);
        await db.SaveChangesAsync(cancellationToken);
        if (runner.RunnerId is { } id)
        {
            // Its stream's cursor and lease go with it (each replica's loop for it stops once its pool reads the removal).
            await db.RunnerStreams.Where(s => s.RunnerId == id).ExecuteDeleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Runner {Name} at {RunnerUrl} removed", name, runner.Url);
        pool.Update(await db.Runners.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken));
        return RunnerOutcome.Done(null);
    }

    /// <summary>Copies what a runner's health answer says into its row; true when anything changed.</summary>
    internal static bool Observe(RunnerEntity runner, HealthcheckResponse health)
    {
        var changed = runner.MaxJobs != health.MaxJobs || runner.IsolationKill != health.Isolation?.Kill
            || runner.IsolationUsers != health.Isolation?.Users || (runner.RunnerId is null && health.RunnerId is not null);
        runner.MaxJobs = health.MaxJobs;
        runner.IsolationKill = health.Isolation?.Kill;
        runner.IsolationUsers = health.Isolation?.Users;
        runner.RunnerId ??= health.RunnerId;
        return changed;
    }

    private async Task<Dictionary<string, int>> JobCountsAsync(CancellationToken cancellationToken) =>
        await db.Jobs
            .Where(j => j.Runner != null && !j.RunnerReleased && OnRunner.Contains(j.Status))
            .GroupBy(j => j.Runner!)
            .Select(g => new { Runner = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Runner, g => g.Count, cancellationToken);

    private RunnerView View(RunnerEntity r, int jobs) => new(
        r.Name,
        r.Url,
        r.Draining ? RunnerState.Draining : pool.IsReachable(r.Url) ? RunnerState.Active : RunnerState.Unreachable,
        jobs,
        r.MaxJobs,
        r.IsolationKill is { } kill && r.IsolationUsers is { } users ? new IsolationInfo(kill, users) : null,
        r.RunnerId);

    private static RunProblem NotFound(string name) =>
        new(StatusCodes.Status404NotFound, $"There is no runner named '{name}'; GET /api/runners lists them.");

    private static RunProblem LocalRefusal(string what) =>
        new(StatusCodes.Status409Conflict, $"The local runner lives and dies with this server process; it cannot be {what}. Start the server with DSTACK_SERVER_RUNNERS to use remote runners only.");
}

/// <summary>What a runners operation came to: the runner as it is now, or the problem that refused it (never both).</summary>
public sealed record RunnerOutcome(RunnerView? Runner, RunProblem? Problem)
{
    public static RunnerOutcome Done(RunnerView? runner) => new(runner, null);

    public static RunnerOutcome Refused(RunProblem problem) => new(null, problem);
}
