using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace LogQuota.Server.Data;

/// <summary>
/// The server's writers take SQLite's one write lock in the order they asked for it. SQLite's own wait for a busy
/// database (<c>busy_timeout</c>) is not a queue: a waiting writer sleeps and tries again, and whoever tries when the
/// lock is free gets it. Beside the processor's passes and the runners' streams, a submit could lose every race for the
/// whole 10 s and answer 503 (bench/RESULTS.md, 2026-12-07: the 1,314th of 2,000 submits). Here each write transaction,
/// and each write outside one, first waits for its turn in this process, first come first served; SQLite's own wait is
/// left for writers of other processes.
/// </summary>
/// <remarks>
/// A turn is taken when a transaction starts (Microsoft.Data.Sqlite begins them <c>IMMEDIATE</c>, so a transaction is a
/// writer from its start) and given back when it commits, rolls back or fails, or at the latest when its connection
/// is next used outside a transaction, closes or is disposed (a transaction disposed without either). A command outside
/// a transaction that is not a <c>SELECT</c> or a <c>PRAGMA</c> holds a turn while it runs. A writer that waits longer than <see cref="MaxWait"/> fails as a busy
/// database does ("database is locked"), which the API answers 503 with Retry-After and a pass backs off from.
/// </remarks>
/// <param name="time">The clock of <see cref="MaxWait"/>.</param>
/// <param name="waits">Where each writer's wait for its turn is recorded (<c>logquota_sqlite_write_wait_seconds</c>), if anywhere.</param>
internal sealed class SqliteWriteQueue(TimeProvider time, Histogram<double>? waits = null)
    : IDbTransactionInterceptor, IDbCommandInterceptor, IDbConnectionInterceptor, IDisposable
{
    /// <summary>The histogram of waits, on the server's meter (docs/metrics.md).</summary>
    public static Histogram<double> WaitHistogram(IMeterFactory meters)
    {
        ArgumentNullException.ThrowIfNull(meters);
        // A turn is usually free (0) or one transaction away (milliseconds); a queue behind a long answer's commit waits
        // tenths of a second, and 10 s is the limit.
        return meters.Create(Metrics.ServerMetrics.MeterName).CreateHistogram<double>("logquota_sqlite_write_wait_seconds", unit: "s",
            description: "How long each write to the SQLite database waited for its turn at the write lock behind the server's other writers.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
    }

    /// <summary>The longest wait for a turn: SQLite's own <c>busy_timeout</c>.</summary>
    public static readonly TimeSpan MaxWait = SqlitePragmas.BusyTimeout;

    private readonly SemaphoreSlim _turn = new(1, 1);

    // Who holds the turn: a connection (for its transaction) or a command (for a write outside one). One entry at most;
    // whoever removes it gives the turn back, so a turn is given back once however many end events arrive.
    private readonly ConcurrentDictionary<Guid, byte> _holder = new();

    private int _waiting;

    /// <summary>Writers waiting for their turn now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public void Dispose() => _turn.Dispose();

    public async ValueTask<InterceptionResult<DbTransaction>> TransactionStartingAsync(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        await TakeAsync(eventData.ConnectionId, cancellationToken);
        return result;
    }

    public InterceptionResult<DbTransaction> TransactionStarting(
        DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<DbTransaction> result)
    {
        ArgumentNullException.ThrowIfNull(eventData);
        Take(eventData.ConnectionId);
        return result;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => GiveBack(eventData?.ConnectionId);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionCommitted(transaction, eventData);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => GiveBack(eventData?.ConnectionId);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionRolledBack(transaction, eventData);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => GiveBack(eventData?.ConnectionId);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionFailed(transaction, eventData);
        return Task.CompletedTask;
    }

    public InterceptionResult ConnectionClosing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        GiveBack(eventData?.ConnectionId);
        return result;
    }

    public ValueTask<InterceptionResult> ConnectionClosingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        ValueTask.FromResult(ConnectionClosing(connection, eventData, result));

    // The last resort: a context disposed with its turn still held (a transaction whose start failed, say).
    public InterceptionResult ConnectionDisposing(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        GiveBack(eventData?.ConnectionId);
        return result;
    }

    public ValueTask<InterceptionResult> ConnectionDisposingAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result) =>
        ValueTask.FromResult(ConnectionDisposing(connection, eventData, result));

    public ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default) =>
        TakeForAsync(command, eventData, result, cancellationToken);

    public InterceptionResult<int> NonQueryExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<int> result)
    {
        TakeFor(command, eventData);
        return result;
    }

    public ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default) =>
        TakeForAsync(command, eventData, result, cancellationToken);

    public InterceptionResult<DbDataReader> ReaderExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result)
    {
        TakeFor(command, eventData);
        return result;
    }

    public ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<object> result, CancellationToken cancellationToken = default) =>
        TakeForAsync(command, eventData, result, cancellationToken);

    public InterceptionResult<object> ScalarExecuting(DbCommand command, CommandEventData eventData, InterceptionResult<object> result)
    {
        TakeFor(command, eventData);
        return result;
    }

    public int NonQueryExecuted(DbCommand command, CommandExecutedEventData eventData, int result)
    {
        GiveBack(eventData?.CommandId);
        return result;
    }

    public ValueTask<int> NonQueryExecutedAsync(DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(NonQueryExecuted(command, eventData, result));

    public object? ScalarExecuted(DbCommand command, CommandExecutedEventData eventData, object? result)
    {
        GiveBack(eventData?.CommandId);
        return result;
    }

    public ValueTask<object?> ScalarExecutedAsync(DbCommand command, CommandExecutedEventData eventData, object? result, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ScalarExecuted(command, eventData, result));

    // A reader's statement holds the lock until the reader is done with it (an INSERT … RETURNING, say).
    public InterceptionResult DataReaderDisposing(DbCommand command, DataReaderDisposingEventData eventData, InterceptionResult result)
    {
        GiveBack(eventData?.CommandId);
        return result;
    }

    public void CommandFailed(DbCommand command, CommandErrorEventData eventData) => GiveBack(eventData?.CommandId);

    public Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        CommandFailed(command, eventData);
        return Task.CompletedTask;
    }

    public void CommandCanceled(DbCommand command, CommandEndEventData eventData) => GiveBack(eventData?.CommandId);

    public Task CommandCanceledAsync(DbCommand command, CommandEndEventData eventData, CancellationToken cancellationToken = default)
    {
        CommandCanceled(command, eventData);
        return Task.CompletedTask;
    }

    /// <summary>Whether <paramref name="command"/> takes the write lock by itself: outside a transaction, and not a read.</summary>
    internal static bool WritesAlone(DbCommand command) => command.Transaction is null && !IsRead(command.CommandText);

    private static bool IsRead(string? sql)
    {
        var text = sql.AsSpan();
        while (true)
        {
            text = text.TrimStart();
            // EF puts a query's tags before it as "-- " lines.
            if (!text.StartsWith("--", StringComparison.Ordinal))
            {
                break;
            }

            var end = text.IndexOf('\n');
            text = end < 0 ? [] : text[(end + 1)..];
        }

        return text.IsEmpty
            || text.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("PRAGMA", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A read (most commands) answers at once, with no task; only a write outside a transaction waits for its turn.</summary>
    private ValueTask<InterceptionResult<T>> TakeForAsync<T>(DbCommand command, CommandEventData eventData, InterceptionResult<T> result, CancellationToken cancellationToken)
    {
        Outside(command, eventData);
        return WritesAlone(command) ? TakenAsync(TakeAsync(eventData.CommandId, cancellationToken), result) : ValueTask.FromResult(result);

        static async ValueTask<InterceptionResult<T>> TakenAsync(Task taking, InterceptionResult<T> result)
        {
            await taking;
            return result;
        }
    }

    private void TakeFor(DbCommand command, CommandEventData eventData)
    {
        Outside(command, eventData);
        if (WritesAlone(command))
        {
            Take(eventData.CommandId);
        }
    }

    /// <summary>A command outside a transaction on a connection that held a turn for one: that transaction was disposed
    /// without a commit or a rollback (SQLite rolled it back), on a connection still open. Its turn is given back here.</summary>
    private void Outside(DbCommand command, CommandEventData eventData)
    {
        if (command.Transaction is null)
        {
            GiveBack(eventData.ConnectionId);
        }
    }

    private async Task TakeAsync(Guid holder, CancellationToken cancellationToken)
    {
        var asked = Asking();
        try
        {
            using var limit = new CancellationTokenSource(MaxWait, time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            try
            {
                await _turn.WaitAsync(either.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw Busy();
            }
        }
        finally
        {
            Answered(asked);
        }

        _holder[holder] = 0;
    }

    private void Take(Guid holder)
    {
        var asked = Asking();
        try
        {
            if (!_turn.Wait(MaxWait))
            {
                throw Busy();
            }
        }
        finally
        {
            Answered(asked);
        }

        _holder[holder] = 0;
    }

    /// <summary>A writer starts waiting: counted in <see cref="Waiting"/>; the timestamp its wait is measured from.</summary>
    private long Asking()
    {
        Interlocked.Increment(ref _waiting);
        return time.GetTimestamp();
    }

    /// <summary>A writer's wait ended, with its turn or without.</summary>
    private void Answered(long asked)
    {
        Interlocked.Decrement(ref _waiting);
        waits?.Record(time.GetElapsedTime(asked).TotalSeconds);
    }

    private void GiveBack(Guid? holder)
    {
        if (holder is { } id && _holder.TryRemove(id, out _))
        {
            _turn.Release();
        }
    }

    /// <summary>What SQLite itself throws when its busy wait runs out, word for word, so that every caller answers a writer
    /// that waited its whole turn out as it answers a busy database (one 503, one detail).</summary>
    private static SqliteException Busy() => new($"SQLite Error {Faults.StorageFault.SqliteBusy}: 'database is locked'.", Faults.StorageFault.SqliteBusy);
}
