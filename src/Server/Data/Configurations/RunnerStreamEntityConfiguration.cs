using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class RunnerStreamEntityConfiguration : IEntityTypeConfiguration<RunnerStreamEntity>
{
    public void Configure(EntityTypeBuilder<RunnerStreamEntity> builder)
    {
        builder.ToTable("runner_streams");
        builder.HasKey(r => r.RunnerId);
        builder.Property(r => r.RunnerId).HasMaxLength(64);
        builder.Property(r => r.Cursor).HasMaxLength(128).IsConcurrencyToken();
        builder.Property(r => r.LeaseOwner).HasMaxLength(64);
    }
}
