namespace LogQuota.Server.Replicas;

/// <summary>
/// Keeps this replica's lease (and with it every job it holds) and its stream leases alive while it runs: a heartbeat
/// before it serves and then three times per lease period, apart from the job processor's passes, so a slow pass or a
/// slow runner never lets a lease lapse. Gives them up when it stops
/// cleanly, after the job processor has stopped (hosted services stop in reverse order of registration), so that its
/// jobs on shared runners go on at another replica's next pass. A replica that dies without this is covered by the
/// leases' expiry (LOCKING.md).
/// </summary>
internal sealed class LeaseKeeper(JobLeases leases, StreamLeases streams, Data.Faults.StorageHealth storage, IServiceScopeFactory scopes, TimeProvider time, ILogger<LeaseKeeper> logger) : BackgroundService
{
    /// <summary>The first beat, before the server listens: a job this replica assigns is never seen by another replica
    /// as held by a replica without a lease (which holds nothing).</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (leases.Enabled)
        {
            await BeatAsync(cancellationToken);
        }

        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!leases.Enabled)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Data.ServerDbContext>();
            await leases.ReleaseAllAsync(db, cancellationToken);
            await streams.ReleaseAllAsync(db, cancellationToken);
            logger.LogInformation("Replica {Replica} released its job leases", leases.Replica);
        }
        catch (ObjectDisposedException)
        {
            logger.LogWarning("Replica {Replica} stopped before it could release its job leases", leases.Replica);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The leases then run out on their own, within one lease period.
            logger.LogWarning("Replica {Replica} could not release its job leases: {Error}", leases.Replica, e.Message);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!leases.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(leases.LeaseMilliseconds / 3.0), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await BeatAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<Data.ServerDbContext>();
            await leases.RenewAllAsync(db, cancellationToken);
            await streams.RenewAllAsync(db, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The database is unreachable: the next beat tries again; a lease period without one hands the jobs on.
            // Meanwhile the health check says so (503): this replica's work is about to go elsewhere.
            logger.LogWarning("Replica {Replica} could not renew its job leases: {Error}", leases.Replica, e.Message);
            storage.Failed(Data.Faults.StorageFault.From(e) ?? new Data.Faults.StorageFault("lease renewal failed", e.Message));
        }
    }
}
