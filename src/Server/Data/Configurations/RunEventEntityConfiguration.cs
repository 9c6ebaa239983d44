using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class RunEventEntityConfiguration : IEntityTypeConfiguration<RunEventEntity>
{
    public void Configure(EntityTypeBuilder<RunEventEntity> builder)
    {
        builder.ToTable("run_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.Property(e => e.Type).HasMaxLength(32);

        // Bounded by the runner's words and the server's own; a long message is a bug, not data to keep.
        builder.Property(e => e.Message).HasMaxLength(2048);
        builder.HasIndex(e => new { e.RunId, e.Timestamp });
        builder.HasOne<RunEntity>().WithMany(r => r.Events).HasForeignKey(e => e.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
