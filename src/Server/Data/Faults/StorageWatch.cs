using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace LogQuota.Server.Data.Faults;

/// <summary>
/// Every command and transaction EF runs passes here: a failure that is a <see cref="StorageFault"/> marks the database
/// unwritable, a committed transaction or a write outside one marks it writable again. The failure itself still reaches
/// the code that ran the command (an API answer, the processor's backoff).
/// </summary>
internal sealed class StorageCommandWatch(StorageHealth health) : DbCommandInterceptor
{
    public override void CommandFailed(DbCommand command, CommandErrorEventData eventData) => Observe(eventData.Exception);

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Observe(eventData.Exception);
        return Task.CompletedTask;
    }

    public override int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        Written(command);
        return result;
    }

    public override ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Written(command);
        return ValueTask.FromResult(result);
    }

    private void Written(DbCommand command)
    {
        // Inside a transaction only the commit proves the write (SQLite reports a full disk at the commit).
        if (command.Transaction is null)
        {
            health.Succeeded();
        }
    }

    private void Observe(Exception exception)
    {
        if (StorageFault.From(exception) is { } fault)
        {
            health.Failed(fault);
        }
    }
}

/// <inheritdoc cref="StorageCommandWatch"/>
internal sealed class StorageTransactionWatch(StorageHealth health) : DbTransactionInterceptor
{
    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => health.Succeeded();

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        health.Succeeded();
        return Task.CompletedTask;
    }

    public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Observe(eventData.Exception);

    public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Observe(eventData.Exception);
        return Task.CompletedTask;
    }

    private void Observe(Exception exception)
    {
        if (StorageFault.From(exception) is { } fault)
        {
            health.Failed(fault);
        }
    }
}
