using LogQuota.Server.Configuration;
using LogQuota.Shared.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data;

/// <summary>Start-up of a SQLite database: its one-process lock, its migrations, WAL.</summary>
internal static class SqliteDatabase
{
    /// <summary>The page size of a new database, in bytes (SQLite's largest).</summary>
    public const int PageSize = 65536;

    // SQLite's result codes for a damaged file and for one that is not a database (sqlite3.h).
    private const int SqliteCorrupt = 11;
    private const int SqliteNotADatabase = 26;

    /// <summary>
    /// Takes the flock of <c>FILE-lock</c> beside the database file, held for the life of the process. Not a lock of the
    /// file itself: SQLite's own locks are POSIX record locks, and closing any other descriptor of the database file
    /// would drop them for the whole process.
    /// </summary>
    public static SqliteFileLock LockFile(string connectionString)
    {
        var path = new SqliteConnectionStringBuilder(connectionString).DataSource;
        try
        {
            if (Path.GetDirectoryName(path) is { Length: > 0 } dir)
            {
                AdminTokenFile.CreateDirectory(dir);
            }

            var fileLock = new SqliteFileLock(DirectoryLock.AcquireFile(path + "-lock"));
            MakePrivate(path);
            return fileLock;
        }
        catch (DirectoryInUseException e)
        {
            throw new SettingsException(
                $"The database {path} is in use by another LogQuota server{(e.HolderPid is { } pid ? $" (pid {pid})" : "")}: " +
                $"SQLite serves one server process; run several replicas on PostgreSQL ({ServerSettingsLoader.DatabaseUrlVariable}=postgresql://…).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException(
                $"The database {path} cannot be created: its directory is unusable ({e.Message.TrimEnd('.')}); check {ServerSettingsLoader.DatabaseUrlVariable}.", e);
        }
    }

    /// <summary>
    /// The database and its WAL and shared-memory files are 0600 (SPEC §7): they hold every run's output, commands
    /// and env values. SQLite creates the -wal and -shm files with the database file's mode, so a database created
    /// here empty with 0600 (SQLite takes an empty file as a new database) keeps all three private from the start.
    /// </summary>
    private static void MakePrivate(string path)
    {
        if (OperatingSystem.IsWindows() || path.Length == 0 || path == ":memory:")
        {
            return;
        }

        if (!File.Exists(path) && !Directory.Exists(path))
        {
            // A directory in its place is left to SQLite, which names the problem when it opens it.
            using var created = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }

        foreach (var file in new[] { path, path + "-wal", path + "-shm", path + "-lock" }.Where(File.Exists))
        {
            if ((File.GetUnixFileMode(file) & (UnixFileMode)0b000_111_111) != 0)
            {
                File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
    }

    public static async Task MigrateAsync(ServerDbContext db, ILogger logger, CancellationToken stopping)
    {
        var path = db.Database.GetDbConnection().DataSource;
        try
        {
            await db.Database.OpenConnectionAsync(stopping);
            try
            {
                // 64 KiB pages: a log event of a few KiB fits in its leaf page instead of a chain of overflow pages,
                // and the WAL checkpoints (each ends with an fsync) come 16 times less often for the same bytes.
                // With 4 KiB pages a 4 MiB pull checkpointed at every commit and SQLite itself stored under
                // 50 MB/s here (bench/Server.Bench). The size only takes hold while the file is still empty, so it
                // is set on this connection before the migrations create the first table; an existing database keeps its own.
                await db.Database.ExecuteSqlRawAsync($"PRAGMA page_size = {PageSize};", stopping);
                var pending = (await db.Database.GetPendingMigrationsAsync(stopping)).Count();
                await db.Database.MigrateAsync(stopping);
                if (pending > 0)
                {
                    logger.LogInformation("Applied {Count} migrations to the SQLite database {Path}", pending, path);
                }

                // WAL lets the API read while the processor writes; the mode is stored in the file, so once is enough.
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", stopping);
            }
            finally
            {
                await db.Database.CloseConnectionAsync();
            }
        }
        catch (SqliteException e) when (e.SqliteErrorCode is SqliteCorrupt or SqliteNotADatabase)
        {
            throw new SettingsException(
                $"The database {path} is corrupt or is not a SQLite database ({e.Message.TrimEnd('.')}): " +
                "restore it from a backup, or move it away to start with an empty one.", e);
        }
        catch (SqliteException e)
        {
            throw new SettingsException(
                $"The database {path} cannot be opened ({e.Message.TrimEnd('.')}): check {ServerSettingsLoader.DatabaseUrlVariable} and the directory's permissions.", e);
        }
    }
}

/// <summary>The SQLite file's one-process lock, owned by the container: released when the host is disposed, else at exit.</summary>
internal sealed class SqliteFileLock(DirectoryLock fileLock) : IDisposable
{
    public void Dispose() => fileLock.Dispose();
}

/// <summary>Resolves <see cref="SqliteFileLock"/> when the host starts, so that the container owns and disposes it.</summary>
internal sealed class SqliteFileLockHolder(SqliteFileLock fileLock) : IHostedService
{
    /// <summary>The lock held.</summary>
    public SqliteFileLock Lock { get; } = fileLock;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
