using System.Text.Json;
using LogQuota.Server.Data.Configurations;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace LogQuota.Server.Data;

/// <summary>
/// The server's state: runs, jobs, their log events, the code archives runs carry, the users and projects runs belong to, and the runners. This type is the SQLite model and owns the SQLite migrations
/// (<c>Data/Migrations</c>); <see cref="Postgres.PostgresServerDbContext"/> is the same model on PostgreSQL with
/// migrations of its own (<c>Data/Postgres/Migrations</c>), since each provider's snapshot differs (Data/README.md).
/// </summary>
public class ServerDbContext : DbContext
{
    public ServerDbContext(DbContextOptions<ServerDbContext> options)
        : base(options)
    {
    }

    /// <summary>For a provider's own context type, which its migrations are keyed to.</summary>
    protected ServerDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<RunEntity> Runs => Set<RunEntity>();

    public DbSet<JobEntity> Jobs => Set<JobEntity>();

    public DbSet<LogEventEntity> LogEvents => Set<LogEventEntity>();

    public DbSet<LogSectionMarkEntity> LogSectionMarks => Set<LogSectionMarkEntity>();

    public DbSet<RunEventEntity> RunEvents => Set<RunEventEntity>();

    public DbSet<JobLeaseEntity> JobLeases => Set<JobLeaseEntity>();

    public DbSet<ReplicaLeaseEntity> ReplicaLeases => Set<ReplicaLeaseEntity>();

    public DbSet<CodeArchiveEntity> CodeArchives => Set<CodeArchiveEntity>();

    public DbSet<CodeChunkEntity> CodeChunks => Set<CodeChunkEntity>();

    public DbSet<UserEntity> Users => Set<UserEntity>();

    public DbSet<ProjectEntity> Projects => Set<ProjectEntity>();

    public DbSet<ProjectMemberEntity> ProjectMembers => Set<ProjectMemberEntity>();

    public DbSet<ProjectSecretEntity> ProjectSecrets => Set<ProjectSecretEntity>();

    public DbSet<ProjectBudgetHourEntity> ProjectBudgetHours => Set<ProjectBudgetHourEntity>();

    public DbSet<ProjectBudgetEvidenceEntity> ProjectBudgetEvidence => Set<ProjectBudgetEvidenceEntity>();

    public DbSet<ProjectEventEntity> ProjectEvents => Set<ProjectEventEntity>();

    public DbSet<RunnerStreamEntity> RunnerStreams => Set<RunnerStreamEntity>();

    public DbSet<RunnerEntity> Runners => Set<RunnerEntity>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        ArgumentNullException.ThrowIfNull(configurationBuilder);

        // SQLite has no time type EF can order or compare; milliseconds since the epoch sort as integers. PostgreSQL
        // keeps the same bigint columns, so both providers store, compare and page the same values.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UnixMillisecondsConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        ArgumentNullException.ThrowIfNull(modelBuilder);
        modelBuilder.ApplyConfiguration(new RunEntityConfiguration());
        modelBuilder.ApplyConfiguration(new JobEntityConfiguration());
        modelBuilder.ApplyConfiguration(new LogEventEntityConfiguration());
        modelBuilder.ApplyConfiguration(new LogSectionMarkEntityConfiguration());
        modelBuilder.ApplyConfiguration(new RunEventEntityConfiguration());
        modelBuilder.ApplyConfiguration(new JobLeaseEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ReplicaLeaseEntityConfiguration());
        modelBuilder.ApplyConfiguration(new CodeArchiveEntityConfiguration());
        modelBuilder.ApplyConfiguration(new CodeChunkEntityConfiguration());
        modelBuilder.ApplyConfiguration(new UserEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectMemberEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectSecretEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectBudgetHourEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectBudgetEvidenceEntityConfiguration());
        modelBuilder.ApplyConfiguration(new ProjectEventEntityConfiguration());
        modelBuilder.ApplyConfiguration(new RunnerStreamEntityConfiguration());
        modelBuilder.ApplyConfiguration(new RunnerEntityConfiguration());

        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties().Where(p => p.FindAnnotation(RelationalAnnotationNames.ColumnName) is null))
            {
                property.SetColumnName(JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name));
            }
        }
    }
}
