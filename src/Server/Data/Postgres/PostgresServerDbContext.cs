using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Data.Postgres;

/// <summary>
/// <see cref="ServerDbContext"/> on PostgreSQL. The model is the same; the type exists so that the PostgreSQL
/// migrations (<c>Data/Postgres/Migrations</c>, generated against this type) are found apart from the SQLite ones.
/// It also holds the data protection key ring (web sessions, project secrets), which replicas must share; a SQLite
/// server keeps its keys in its directory instead (<see cref="Teams.SecretProtection"/>).
/// </summary>
public sealed class PostgresServerDbContext(DbContextOptions<PostgresServerDbContext> options) : ServerDbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.Entity<DataProtectionKey>().ToTable("data_protection_keys");
        base.OnModelCreating(modelBuilder);
    }
}
