using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class RunnerEntityConfiguration : IEntityTypeConfiguration<RunnerEntity>
{
    public void Configure(EntityTypeBuilder<RunnerEntity> builder)
    {
        builder.ToTable("runners");
        builder.HasKey(r => r.Name);
        builder.Property(r => r.Name).HasMaxLength(41);

        // As long as jobs.runner, which holds it.
        builder.Property(r => r.Url).HasMaxLength(2048);
        builder.Property(r => r.RunnerId).HasMaxLength(64);
        builder.Property(r => r.IsolationKill).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.IsolationUsers).HasConversion<string>().HasMaxLength(16);

        // One row per runner, however many replicas seed it under whatever address.
        builder.HasIndex(r => r.Url).IsUnique();
        builder.HasIndex(r => r.RunnerId).IsUnique();
    }
}
