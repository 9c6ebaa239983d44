using LogQuota.Server.Data;
using LogQuota.Server.Data.Faults;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Processing;

/// <summary>
/// The job processor's answer to a database that cannot be written (SPEC §6 storage faults): instead of pulling and
/// failing every poll interval (a full disk once meant the same 4 MiB page re-pulled ~16,700 times), passes wait
/// 1 s, 2 s, 4 s ... at most <see cref="MaxDelay"/> after each pass that hit a fault. Each job whose pull stalled gets
/// one <c>pull_stalled</c> run event per stall (not per retry): at once if the database takes that small write,
/// else when writes succeed again, then naming how long it lasted. The runner keeps every unstored line in its spool,
/// so nothing is lost: the next successful pull asks for the same position again.
/// </summary>
internal sealed class StorageBackoff(StorageHealth health, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromSeconds(1);

    private readonly Dictionary<Guid, Stall> _stalls = [];
    private TimeSpan _delay = TimeSpan.Zero;
    private long _dueAt;

    /// <summary>False while a pass would only repeat the last failure.</summary>
    public bool IsDue => _delay == TimeSpan.Zero || time.GetTimestamp() >= _dueAt;

    public async Task PassEndedAsync(IServiceScopeFactory scopes, List<(Guid JobId, StorageFault Fault)> faults, CancellationToken cancellationToken)
    {
        // A fault that a request met (a submit on a full disk) is cleared only by a write that succeeds; a server with no
        // job to store would never make one, and its health check would say 503 for ever. So a pass makes one itself.
        if (faults.Count == 0 && health.Current is not null && await ProbeAsync(scopes, cancellationToken) is { } stillFaulty)
        {
            faults = [(Guid.Empty, stillFaulty)];
        }

        if (faults.Count > 0)
        {
            _delay = _delay == TimeSpan.Zero ? FirstDelay : TimeSpan.FromTicks(Math.Min(_delay.Ticks * 2, MaxDelay.Ticks));
            _dueAt = time.GetTimestamp() + (long)(_delay.TotalSeconds * time.TimestampFrequency);
            health.SetRetryAfter(_delay);
            health.Failed(faults[0].Fault);
            foreach (var (jobId, fault) in faults.Where(f => f.JobId != Guid.Empty))
            {
                if (!_stalls.ContainsKey(jobId))
                {
                    logger.LogWarning("Storing what was pulled for job {JobId} stalled: the database cannot be written: {Fault}; retrying with backoff", jobId, fault);
                    _stalls[jobId] = new Stall(time.GetUtcNow(), fault, Recorded: false);
                    _stalls[jobId] = _stalls[jobId] with { Recorded = await TryRecordAsync(scopes, jobId, Started(_stalls[jobId]), cancellationToken) };
                }
            }

            logger.LogDebug("The database cannot be written ({Fault}); the next pass in {Delay}", faults[0].Fault, _delay);
            return;
        }

        if (_delay != TimeSpan.Zero)
        {
            logger.LogInformation("The database can be written again; processing resumes");
        }

        _delay = TimeSpan.Zero;
        foreach (var (jobId, stall) in _stalls.ToList())
        {
            if (stall.Recorded || await TryRecordAsync(scopes, jobId, Ended(stall), cancellationToken))
            {
                _stalls.Remove(jobId);
            }
        }
    }

    private static string Started(Stall stall) =>
        $"Storing this job's pulled logs stalled at {stall.Since.UtcDateTime:HH:mm:ss} UTC: the server's database cannot be written: {stall.Fault}. " +
        "The server retries with backoff; the runner keeps the lines until they are stored.";

    private string Ended(Stall stall)
    {
        var now = time.GetUtcNow();
        return $"Storing this job's pulled logs stalled from {stall.Since.UtcDateTime:HH:mm:ss} to {now.UtcDateTime:HH:mm:ss} UTC " +
            $"({(now - stall.Since).TotalSeconds:0} s): the server's database could not be written: {stall.Fault}. Nothing was lost.";
    }

    /// <summary>One small write of its own; false when the database does not take it either.</summary>
    private async Task<bool> TryRecordAsync(IServiceScopeFactory scopes, Guid jobId, string message, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            var runId = await db.Jobs.Where(j => j.Id == jobId).Select(j => (Guid?)j.RunId).SingleOrDefaultAsync(cancellationToken);
            if (runId is null)
            {
                return true;
            }

            db.RunEvents.Add(new RunEventEntity
            {
                RunId = runId.Value, Timestamp = time.GetUtcNow(), Type = JobEventTypes.PullStalled, Message = message,
            });
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (Exception e) when (StorageFault.From(e) is not null)
        {
            return false;
        }
    }

    /// <summary>
    /// One write that changes nothing: the newest migration row updated to itself (the same SQL on SQLite and PostgreSQL;
    /// both really write the row, so a full disk or a read-only database fails it). Null when it was written; the
    /// storage watches record the outcome in <see cref="StorageHealth"/> either way.
    /// </summary>
    private static async Task<StorageFault?> ProbeAsync(IServiceScopeFactory scopes, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
            await db.Database.ExecuteSqlRawAsync(
                """UPDATE "__EFMigrationsHistory" SET "ProductVersion" = "ProductVersion" WHERE "MigrationId" = (SELECT MAX("MigrationId") FROM "__EFMigrationsHistory")""",
                cancellationToken);
            return null;
        }
        catch (Exception e) when (StorageFault.From(e) is { } fault)
        {
            return fault;
        }
    }

    private sealed record Stall(DateTimeOffset Since, StorageFault Fault, bool Recorded);
}
