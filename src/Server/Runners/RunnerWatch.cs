using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Runners;

/// <summary>
/// Keeps this replica's <see cref="RunnerPool"/> true to the <c>runners</c> table: at start-up it stores the runners of
/// <c>DSTACK_SERVER_RUNNERS</c> that are not stored yet (by the identity each reports, not by how its address is
/// written), then every <see cref="Interval"/> it reads the table again (runners other replicas added, drained or
/// removed) and asks each runner's health check, keeping what it reports (capacity, isolation) in its row and what it
/// can give one job in <see cref="RunnerCapacities"/>, so that a submit asking resources need not ask a runner itself.
/// </summary>
internal sealed class RunnerWatch(
    IServiceScopeFactory scopes,
    RunnerPool pool,
    RunnerCheck check,
    RunnerCapacities capacities,
    ServerSettings settings,
    TimeProvider time,
    ILogger<RunnerWatch> logger) : BackgroundService
{
    /// <summary>A runner added on another replica is given jobs here within this; a runner down shows as unreachable as soon.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    /// <summary>Seeds before the processor's first pass (hosted services start in order), then watches.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (pool.LocalUrl is { } local)
        {
            pool.LocalHealth = await AskLocalAsync(local, cancellationToken);
        }

        await SeedAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Interval, time, stoppingToken);
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The database is away (the processor backs off and says so): the last list read stays in force.
                    logger.LogWarning("Reading the runners failed; the last list read stays in force: {Error}", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown.
        }
    }

    /// <summary>Stores each runner of DSTACK_SERVER_RUNNERS not stored yet, under this replica's address for it.</summary>
    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var answers = await Task.WhenAll(settings.Runners.Select(async url => (Url: url, Health: await AskAsync(url, cancellationToken))));
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        foreach (var (url, health) in answers)
        {
            // Two replicas may seed the same runner at once: the loser of the unique index reads again and finds it.
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await SeedOneAsync(db, url, health, cancellationToken);
                    break;
                }
                catch (DbUpdateException) when (attempt < 2)
                {
                    db.ChangeTracker.Clear();
                }
            }
        }

        pool.Update(await db.Runners.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken));
    }

    private async Task SeedOneAsync(ServerDbContext db, Uri url, HealthcheckResponse? health, CancellationToken cancellationToken)
    {
        var text = url.ToString();
        var id = health?.RunnerId;
        var stored = await db.Runners.FirstOrDefaultAsync(r => r.Url == text || (id != null && r.RunnerId == id), cancellationToken);
        if (stored is null)
        {
            var taken = await db.Runners.Select(r => r.Name).ToListAsync(cancellationToken);
            stored = new RunnerEntity { Name = RunnerAddress.Unique(RunnerAddress.NameFrom(url), taken), Url = text, AddedAt = time.GetUtcNow() };
            db.Runners.Add(stored);
            logger.LogInformation("Runner {Name} at {RunnerUrl} stored from DSTACK_SERVER_RUNNERS", stored.Name, text);
        }
        else if (stored.Url != text)
        {
            logger.LogInformation("Runner {RunnerUrl} of DSTACK_SERVER_RUNNERS is runner {Name}, stored at {StoredUrl} (the same runner_id {RunnerId})", text, stored.Name, stored.Url, id);
        }

        if (id is not null)
        {
            pool.Alias(id, text);
        }

        if (health is not null)
        {
            RunnersService.Observe(stored, health);
            capacities.Heard(stored.Url, health);
        }

        pool.MarkReachable(stored.Url, health is not null);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        var stored = await db.Runners.OrderBy(r => r.Name).ToListAsync(cancellationToken);
        pool.Update(stored);

        var answers = await Task.WhenAll(stored.Select(async r => (Runner: r, Health: await AskAsync(new Uri(r.Url), cancellationToken))));
        var changed = false;
        foreach (var (runner, health) in answers)
        {
            pool.MarkReachable(runner.Url, health is not null);
            if (health is null)
            {
                continue;
            }

            capacities.Heard(runner.Url, health);
            if (RunnersService.Observe(runner, health))
            {
                changed = true;
            }
        }

        if (changed)
        {
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e)
            {
                // Two rows are one runner (two replicas seeded it under two addresses while it was down): say so once per round.
                logger.LogWarning("Storing what the runners reported failed (is one runner stored twice, under two addresses?): {Error}", e.InnerException?.Message ?? e.Message);
            }
        }

        if (pool.LocalUrl is { } local)
        {
            pool.LocalHealth = await AskLocalAsync(local, cancellationToken) ?? pool.LocalHealth;
        }

        pool.Update(await db.Runners.AsNoTracking().OrderBy(r => r.Name).ToListAsync(cancellationToken));
    }

    private async Task<HealthcheckResponse?> AskLocalAsync(string local, CancellationToken cancellationToken)
    {
        var health = await AskAsync(new Uri(local), cancellationToken);
        if (health is not null)
        {
            capacities.Heard(local, health);
        }

        return health;
    }

    private async Task<HealthcheckResponse?> AskAsync(Uri url, CancellationToken cancellationToken)
    {
        try
        {
            return await check.HealthAsync(url, cancellationToken);
        }
        catch (RunnerCheckException e)
        {
            logger.LogDebug("Runner {RunnerUrl} did not answer its health check: {Error}", url, e.Message);
            return null;
        }
    }
}
