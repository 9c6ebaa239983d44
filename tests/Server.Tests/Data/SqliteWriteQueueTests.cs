using LogQuota.Server.Data;
using LogQuota.Server.Data.Faults;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Data;

/// <summary>
/// <see cref="SqliteWriteQueue"/> on a real SQLite file, with EF contexts as the server makes them: writers take the
/// write lock in the order they asked, one that waits out its turn fails as a busy database does, and no turn is lost.
/// </summary>
public sealed class SqliteWriteQueueTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new();
    private readonly SqliteWriteQueue _queue;
    private readonly string _file;

    public SqliteWriteQueueTests()
    {
        _queue = new SqliteWriteQueue(_time);
        _file = Path.Combine(_dir.Path, "queue.db");
        using var db = Open();
        db.Database.EnsureCreated();
        db.Database.ExecuteSqlRaw("PRAGMA journal_mode = WAL;");
    }

    public void Dispose()
    {
        _queue.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Writers_TakeTheLock_InTheOrderTheyAskedForIt()
    {
        var writers = new List<Task>();
        await using (var holder = Open())
        {
            await using var held = await holder.Database.BeginTransactionAsync();
            holder.Rows.Add(new Row { Name = "holder" });
            await holder.SaveChangesAsync();

            // Each writer asks once the one before it waits: w1, a transaction of two rows; w2, a statement alone; w3, a
            // transaction; w4, a single-row save (one statement, no transaction of EF's); w5, a statement alone.
            for (var i = 1; i <= 5; i++)
            {
                var name = $"w{i}";
                writers.Add(i switch
                {
                    1 or 3 => SaveAsync(name, name + "b"),
                    4 => SaveAsync(name),
                    _ => InsertAloneAsync(name),
                });
                await Eventually.TrueAsync(() => _queue.Waiting == i, $"{i} writers waiting for their turn");
            }

            await held.CommitAsync();
        }

        await Within(Task.WhenAll(writers), "the five writers");
        await using var db = Open();
        var names = await db.Rows.OrderBy(r => r.Id).Select(r => r.Name).ToListAsync();
        Assert.Equal(["holder", "w1", "w1b", "w2", "w3", "w3b", "w4", "w5"], names);
        Assert.Equal(0, _queue.Waiting);
    }

    [Fact]
    public async Task AWriterThatWaitsOutItsTurn_FailsAsABusyDatabase_AndTheTurnIsNotLost()
    {
        await using (var holder = Open())
        {
            await using var held = await holder.Database.BeginTransactionAsync();
            var late = InsertAloneAsync("late");
            await Eventually.TrueAsync(() => _queue.Waiting == 1, "the writer waiting for its turn");
            _time.Advance(SqliteWriteQueue.MaxWait);

            var failure = await Assert.ThrowsAnyAsync<Exception>(() => late);
            var fault = StorageFault.From(failure);
            Assert.NotNull(fault);
            Assert.Equal("locked", fault.Kind);
            Assert.Equal("database is locked", fault.Detail);
            Assert.Equal(0, _queue.Waiting);

            holder.Rows.Add(new Row { Name = "holder" });
            await holder.SaveChangesAsync();
            await held.CommitAsync();
        }

        // The failed writer never held the turn, and the holder gave it back: the next writers go straight through.
        await Within(InsertAloneAsync("after"), "a statement after the failed writer");
        await Within(SaveAsync("saved", "saved too"), "a save after the failed writer");
        await using var db = Open();
        Assert.Equal(["holder", "after", "saved", "saved too"], await db.Rows.OrderBy(r => r.Id).Select(r => r.Name).ToListAsync());
    }

    [Fact]
    public async Task ATransactionDisposedWithoutACommit_GivesItsTurnBack()
    {
        await using (var dropped = Open())
        {
            await using (await dropped.Database.BeginTransactionAsync())
            {
                dropped.Rows.Add(new Row { Name = "rolled back" });
                await dropped.SaveChangesAsync();
            }

            // The context opened its connection for the transaction, and closed it with the transaction.
            await Within(InsertAloneAsync("after a dropped transaction"), "a writer after a dropped transaction");
        }

        await using (var open = Open())
        {
            // The connection opened by hand stays open after its transaction: its next command gives the turn back.
            await open.Database.OpenConnectionAsync();
            await using (await open.Database.BeginTransactionAsync())
            {
                open.Rows.Add(new Row { Name = "rolled back too" });
                await open.SaveChangesAsync();
            }

            Assert.Equal(1, await open.Rows.CountAsync());
            await Within(InsertAloneAsync("after a dropped transaction on an open connection"), "a writer after a dropped transaction on an open connection");
        }

        await using var db = Open();
        Assert.Equal(["after a dropped transaction", "after a dropped transaction on an open connection"],
            await db.Rows.OrderBy(r => r.Id).Select(r => r.Name).ToListAsync());
    }

    [Fact]
    public async Task ATransactionThatCannotStart_GivesItsTurnBack()
    {
        await using (var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_file};Pooling=False"))
        {
            // Another process's lock: SQLite's own wait, not the queue, refuses the transaction (after the 1 s of
            // Microsoft.Data.Sqlite's retries, as these contexts set no busy_timeout).
            await other.OpenAsync();
            await using var command = other.CreateCommand();
            command.CommandText = "BEGIN EXCLUSIVE;";
            await command.ExecuteNonQueryAsync();

            await using (var refused = Open(pragmas: false))
            {
                var failure = await Assert.ThrowsAnyAsync<Exception>(() => refused.Database.BeginTransactionAsync());
                Assert.Equal("locked", StorageFault.From(failure)?.Kind);
            }

            command.CommandText = "ROLLBACK;";
            await command.ExecuteNonQueryAsync();
        }

        await Within(InsertAloneAsync("after a refused transaction"), "a writer after a refused transaction");
        Assert.Equal(0, _queue.Waiting);
    }

    [Theory]
    [InlineData("SELECT 1", false)]
    [InlineData("  select * from rows", false)]
    [InlineData("-- tag\nSELECT 1", false)]
    [InlineData("PRAGMA busy_timeout = 10000;", false)]
    [InlineData("INSERT INTO rows (name) VALUES ('a')", true)]
    [InlineData("-- tag\n-- another\nUPDATE rows SET name = 'b'", true)]
    [InlineData("DELETE FROM rows", true)]
    [InlineData("CREATE TABLE t (x)", true)]
    public void AStatementOutsideATransaction_IsAWriterUnlessItReads(string sql, bool writes)
    {
        using var db = Open();
        db.Database.OpenConnection();
        using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = sql;
        Assert.Equal(writes, SqliteWriteQueue.WritesAlone(command));
    }

    /// <summary>Time here stands still (<see cref="FakeTimeProvider"/>), so a writer whose turn was lost would wait for ever:
    /// a minute of real time is the deadline, long enough for a loaded machine, and the failure names the writer.</summary>
    private static async Task Within(Task writer, string what)
    {
        try
        {
            await writer.WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{what} still waits for its turn after a minute: a turn was not given back");
        }
    }

    private async Task SaveAsync(params string[] names)
    {
        await using var db = Open();
        db.Rows.AddRange(names.Select(n => new Row { Name = n }));
        await db.SaveChangesAsync();
    }

    private async Task InsertAloneAsync(string name)
    {
        await using var db = Open();
        await db.Database.ExecuteSqlAsync($"INSERT INTO rows (name) VALUES ({name})");
    }

    private QueueDb Open(bool pragmas = true) => new(new DbContextOptionsBuilder<QueueDb>()
        // Pooling off: each context its own connection, as concurrent server scopes have, and no file held after the test.
        .UseSqlite($"Data Source={_file};Pooling=False", sqlite => sqlite.CommandTimeout(1))
        .AddInterceptors(pragmas ? [new SqlitePragmas(), _queue] : [_queue])
        .Options);

    private sealed class QueueDb(DbContextOptions<QueueDb> options) : DbContext(options)
    {
        public DbSet<Row> Rows => Set<Row>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) =>
            modelBuilder.Entity<Row>().ToTable("rows").Property(r => r.Name).HasColumnName("name");
    }

    private sealed class Row
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";
    }
}
