using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Retention;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Code;

/// <summary>
/// Deletes code archives no job refers to any more (its run was deleted, or it was uploaded and never submitted)
/// once they have not been used for <see cref="Grace"/>. Safe with replicas: each delete is one conditional statement
/// that re-checks both rules, so an archive a submit has just named (which moves its use time in the submit's
/// transaction) is never deleted under it, and two replicas deleting the same archive delete it once.
/// </summary>
internal sealed class CodeCollector(IServiceScopeFactory scopes, TimeProvider time, ILogger<CodeCollector> logger)
{
    /// <summary>An upload is followed by its submit; an hour covers a slow client and a clock that is a little off.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromHours(1);

    /// <summary>Archives looked at per query.</summary>
    private const int Batch = 100;

    /// <summary>One pass; returns the number of archives deleted.</summary>
    public async Task<int> CollectAsync(CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - Grace;
        var deleted = 0;
        var after = "";
        while (true)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            var unused = await Unused(db, cutoff)
                .Where(a => string.Compare(a.Sha256, after) > 0)
                .OrderBy(a => a.Sha256)
                .Select(a => a.Sha256)
                .Take(Batch)
                .ToListAsync(cancellationToken);
            foreach (var sha256 in unused)
            {
                // The archive's row and its chunks in one short transaction each: the row's conditional delete decides.
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                if (await Unused(db, cutoff).Where(a => a.Sha256 == sha256).ExecuteDeleteAsync(cancellationToken) == 1)
                {
                    await db.CodeChunks.Where(c => c.Sha256 == sha256).ExecuteDeleteAsync(cancellationToken);
                    deleted++;
                }

                await transaction.CommitAsync(cancellationToken);
            }

            if (unused.Count < Batch)
            {
                break;
            }

            after = unused[^1];
        }

        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} code archives no run refers to, unused since before {Cutoff}", deleted, cutoff);
        }

        return deleted;
    }

    private static IQueryable<CodeArchiveEntity> Unused(ServerDbContext db, DateTimeOffset cutoff) =>
        db.CodeArchives.Where(a => a.UsedAt < cutoff && !db.Jobs.Any(j => j.CodeHash == a.Sha256));
}

/// <summary>Collects every ten minutes (and at start, after emptying the upload directory of a killed process).</summary>
internal sealed class CodeCollectorService(CodeCollector collector, ServerSettings settings, TimeProvider time, IServiceProvider services, ILogger<CodeCollectorService> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            CodeUpload.Sweep(settings.Dir);
        }
        catch (IOException e)
        {
            logger.LogWarning("Leftover uploads in {Dir} could not be deleted: {Error}", Path.Combine(settings.Dir, CodeUpload.DirectoryName), e.Message);
        }

        await PeriodicSweep.RunAsync(async token => await collector.CollectAsync(token), Interval, "Deleting unused code", services, time, logger, stoppingToken);
    }
}
