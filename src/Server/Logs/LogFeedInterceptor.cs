using System.Data.Common;
using System.Runtime.CompilerServices;
using LogQuota.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace LogQuota.Server.Logs;

/// <summary>
/// Notifies <see cref="LogFeed"/> of every run whose job row a commit changed (its pull position, state or live region:
/// a stored page always moves one of them), once the commit has happened, so a follower never reads ahead of it.
/// Whatever stores a page through the context's change tracker is covered, without the code that stores it knowing about
/// followers; a store that writes job rows with its own statements says so with <see cref="Changed"/>.
/// </summary>
internal sealed class LogFeedInterceptor(LogFeed feed) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbContext, HashSet<Guid>> _pending = [];

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData?.Context);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData?.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        SavedOutsideTransaction(eventData?.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        SavedOutsideTransaction(eventData?.Context);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Notify(eventData?.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Notify(eventData?.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData?.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData?.Context);
        return Task.CompletedTask;
    }

    /// <summary>A job row of run <paramref name="runId"/> changed in the context's transaction without its change tracker
    /// (a prepared UPDATE): its followers are woken with the commit, as for a tracked change.</summary>
    public void Changed(DbContext context, Guid runId)
    {
        lock (_pending)
        {
            _pending.GetOrCreateValue(context).Add(runId);
        }
    }

    private void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries<JobEntity>().Where(e => e.State == EntityState.Modified))
        {
            lock (_pending)
            {
                _pending.GetOrCreateValue(context).Add(entry.Entity.RunId);
            }
        }
    }

    private void SavedOutsideTransaction(DbContext? context)
    {
        if (context?.Database.CurrentTransaction is null)
        {
            Notify(context);
        }
    }

    private void Notify(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        Guid[] runs;
        lock (_pending)
        {
            if (!_pending.TryGetValue(context, out var pending) || pending.Count == 0)
            {
                return;
            }

            runs = [.. pending];
            pending.Clear();
        }

        foreach (var run in runs)
        {
            feed.Stored(run);
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        lock (_pending)
        {
            _pending.Remove(context);
        }
    }
}
