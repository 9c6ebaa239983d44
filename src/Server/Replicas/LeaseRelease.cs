namespace LogQuota.Server.Replicas;

/// <summary>
/// Gives up this replica's leases when it stops cleanly, after the job processor has stopped (hosted services stop in
/// reverse order of registration), so that its jobs on shared runners go on at another replica's next pass instead of
/// after a lease period. A replica that dies without this is covered by the leases' expiry (LOCKING.md).
/// </summary>
internal sealed class LeaseRelease(JobLeases leases, IServiceScopeFactory scopes, ILogger<LeaseRelease> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (!leases.Enabled)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await leases.ReleaseAllAsync(scope.ServiceProvider.GetRequiredService<Data.ServerDbContext>(), cancellationToken);
            logger.LogInformation("Replica {Replica} released its job leases", leases.Replica);
        }
        catch (Exception e) when (e is not ObjectDisposedException)
        {
            // The leases then run out on their own, within one lease period.
            logger.LogWarning("Replica {Replica} could not release its job leases: {Error}", leases.Replica, e.Message);
        }
        catch (ObjectDisposedException)
        {
            logger.LogWarning("Replica {Replica} stopped before it could release its job leases", leases.Replica);
        }
    }
}
