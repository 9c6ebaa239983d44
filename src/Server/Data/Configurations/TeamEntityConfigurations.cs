using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class UserEntityConfiguration : IEntityTypeConfiguration<UserEntity>
{
    public void Configure(EntityTypeBuilder<UserEntity> builder)
    {
        builder.ToTable("users");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Name).HasMaxLength(41);
        builder.HasIndex(u => u.Name).IsUnique();
        builder.Property(u => u.GlobalRole).HasConversion<string>().HasMaxLength(16);
        builder.Property(u => u.TokenHash).HasMaxLength(32);

        // Every request with a user's token finds its user by this index.
        builder.HasIndex(u => u.TokenHash).IsUnique();
    }
}

internal sealed class ProjectEntityConfiguration : IEntityTypeConfiguration<ProjectEntity>
{
    public void Configure(EntityTypeBuilder<ProjectEntity> builder)
    {
        builder.ToTable("projects");
        builder.HasKey(p => p.Id);
        builder.Property(p => p.Name).HasMaxLength(41);
        builder.HasIndex(p => p.Name).IsUnique();
        builder.Property(p => p.LogBudgetAction).HasConversion<string>().HasMaxLength(16);
        builder.HasMany(p => p.Members).WithOne().HasForeignKey(m => m.ProjectId).OnDelete(DeleteBehavior.Cascade);

        // main exists from the first start (and from the migration that brought projects, for the runs already stored).
        builder.HasData(new ProjectEntity { Id = ProjectEntity.MainId, Name = ProjectEntity.MainName, CreatedAt = DateTimeOffset.UnixEpoch });
    }
}

internal sealed class ProjectMemberEntityConfiguration : IEntityTypeConfiguration<ProjectMemberEntity>
{
    public void Configure(EntityTypeBuilder<ProjectMemberEntity> builder)
    {
        builder.ToTable("project_members");
        builder.HasKey(m => new { m.ProjectId, m.UserId });
        builder.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        builder.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);

        // A deleted user's memberships go with them; the project's side is the primary key's prefix.
        builder.HasIndex(m => m.UserId);
    }
}

internal sealed class ProjectSecretEntityConfiguration : IEntityTypeConfiguration<ProjectSecretEntity>
{
    public void Configure(EntityTypeBuilder<ProjectSecretEntity> builder)
    {
        builder.ToTable("project_secrets");
        builder.HasKey(s => new { s.ProjectId, s.Name });
        builder.Property(s => s.Name).HasMaxLength(Shared.Contracts.SecretRules.MaxNameLength);
        builder.Property(s => s.UpdatedBy).HasMaxLength(41);
        builder.HasOne<ProjectEntity>().WithMany().HasForeignKey(s => s.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProjectBudgetHourEntityConfiguration : IEntityTypeConfiguration<ProjectBudgetHourEntity>
{
    public void Configure(EntityTypeBuilder<ProjectBudgetHourEntity> builder)
    {
        builder.ToTable("project_budget_hours");
        builder.HasKey(h => new { h.ProjectId, h.HourStart });
        builder.HasOne<ProjectEntity>().WithMany().HasForeignKey(h => h.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProjectBudgetEvidenceEntityConfiguration : IEntityTypeConfiguration<ProjectBudgetEvidenceEntity>
{
    public void Configure(EntityTypeBuilder<ProjectBudgetEvidenceEntity> builder)
    {
        builder.ToTable("project_budget_evidence");
        builder.HasKey(e => new { e.ProjectId, e.HourStart });

        // Deleted with its hour: the retention's one delete of old hours takes their evidence along.
        builder.HasOne<ProjectBudgetHourEntity>().WithOne().HasForeignKey<ProjectBudgetEvidenceEntity>(e => new { e.ProjectId, e.HourStart })
            .OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ProjectEventEntityConfiguration : IEntityTypeConfiguration<ProjectEventEntity>
{
    public void Configure(EntityTypeBuilder<ProjectEventEntity> builder)
    {
        builder.ToTable("project_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.Property(e => e.Type).HasMaxLength(32);
        builder.Property(e => e.Message).HasMaxLength(2048);
        builder.HasIndex(e => new { e.ProjectId, e.Timestamp });
        builder.HasOne<ProjectEntity>().WithMany().HasForeignKey(e => e.ProjectId).OnDelete(DeleteBehavior.Cascade);
    }
}
