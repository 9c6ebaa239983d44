using LogQuota.Server.Data;
using LogQuota.Server.Data.Faults;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Code;

/// <summary>
/// The code archives runs carry (SPEC §9), kept in the database in chunks of <see cref="ChunkBytes"/>: every replica sees
/// every upload, one backup holds them with the runs that name them, and neither storing nor reading an archive ever
/// holds more than one chunk in memory (Data/README.md says why rows and not a directory).
/// </summary>
public sealed class CodeStore(IServiceScopeFactory scopes, TimeProvider time, ILogger<CodeStore> logger)
{
    /// <summary>One row's bytes: 1 MiB, a 128 MiB archive is 128 inserts, and one is small next to SQLite's 64 KiB pages.</summary>
    public const int ChunkBytes = 1 << 20;

    /// <summary>
    /// Marks the archive used now and says whether it is held. A submit calls this in the transaction that stores its
    /// job: the garbage collector's conditional delete then either sees the new time or has deleted the row first.
    /// </summary>
    public static async Task<bool> TouchAsync(ServerDbContext db, string sha256, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return await db.CodeArchives.Where(a => a.Sha256 == sha256)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.UsedAt, now), cancellationToken) == 1;
    }

    public static Task<bool> ExistsAsync(ServerDbContext db, string sha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        return db.CodeArchives.AnyAsync(a => a.Sha256 == sha256, cancellationToken);
    }

    /// <summary>
    /// Stores <paramref name="archive"/> (already checked: its hash, its size, its format) under <paramref name="sha256"/>.
    /// The row and every chunk commit in one transaction, so no reader ever finds half an archive.
    /// </summary>
    /// <returns>True when stored, false when it was held already (then only its use time moves).</returns>
    public async Task<bool> StoreAsync(ServerDbContext db, string sha256, Stream archive, long size, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(archive);
        var now = time.GetUtcNow();
        if (await TouchAsync(db, sha256, now, cancellationToken))
        {
            return false;
        }

        var chunks = (int)((size + ChunkBytes - 1) / ChunkBytes);
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.CodeArchives.Add(new CodeArchiveEntity { Sha256 = sha256, SizeBytes = size, Chunks = chunks, CreatedAt = now, UsedAt = now });
            await db.SaveChangesAsync(cancellationToken);
            for (var seq = 0; seq < chunks; seq++)
            {
                var data = new byte[(int)Math.Min(ChunkBytes, size - ((long)seq * ChunkBytes))];
                await archive.ReadExactlyAsync(data, cancellationToken);
                db.ChangeTracker.Clear();
                db.CodeChunks.Add(new CodeChunkEntity { Sha256 = sha256, Seq = seq, Data = data });
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (StorageFault.From(e) is null)
        {
            // The same archive uploaded at the same moment, through this replica or another: the first commit won.
            db.ChangeTracker.Clear();
            if (!await TouchAsync(db, sha256, now, cancellationToken))
            {
                throw;
            }

            return false;
        }
        finally
        {
            db.ChangeTracker.Clear();
        }

        logger.LogInformation("Code {CodeHash} stored: {Bytes} bytes in {Chunks} chunks", sha256, size, chunks);
        return true;
    }

    /// <summary>The archive's row, or null when it is not held.</summary>
    public async Task<CodeArchiveEntity?> FindAsync(string sha256, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        return await db.CodeArchives.AsNoTracking().SingleOrDefaultAsync(a => a.Sha256 == sha256, cancellationToken);
    }

    /// <summary>Writes the archive's bytes to <paramref name="target"/>, one chunk read at a time.</summary>
    /// <exception cref="CodeGoneException">The archive was deleted while it was read.</exception>
    public async Task CopyToAsync(CodeArchiveEntity archive, Stream target, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentNullException.ThrowIfNull(target);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        for (var seq = 0; seq < archive.Chunks; seq++)
        {
            var data = await db.CodeChunks.AsNoTracking()
                .Where(c => c.Sha256 == archive.Sha256 && c.Seq == seq)
                .Select(c => c.Data)
                .SingleOrDefaultAsync(cancellationToken)
                ?? throw new CodeGoneException(archive.Sha256);
            await target.WriteAsync(data, cancellationToken);
        }
    }
}

/// <summary>A code archive a job names is no longer held by the server.</summary>
internal sealed class CodeGoneException(string sha256) : Exception($"The code {sha256} is no longer held by the server.");
