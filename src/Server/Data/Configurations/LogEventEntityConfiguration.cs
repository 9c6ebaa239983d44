using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class LogEventEntityConfiguration : IEntityTypeConfiguration<LogEventEntity>
{
    public void Configure(EntityTypeBuilder<LogEventEntity> builder)
    {
        builder.ToTable("log_events");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.Property(e => e.LogSource).HasConversion<string>().HasMaxLength(8);
        builder.Property(e => e.Styles).IsRequired(false);

        // Every logs query is "events of one job in time order, from a point": with this index a page of a
        // job with millions of events is a range scan (SQLite appends the rowid, the page tie-breaker).
        builder.HasIndex(e => new { e.JobId, e.Timestamp });
        builder.HasOne<JobEntity>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
