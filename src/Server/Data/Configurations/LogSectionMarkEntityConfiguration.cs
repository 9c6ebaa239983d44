using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class LogSectionMarkEntityConfiguration : IEntityTypeConfiguration<LogSectionMarkEntity>
{
    /// <summary>Characters of a section's name and title kept (the runner sends at most 64 and 201).</summary>
    public const int MaxName = 64;

    public const int MaxTitle = 256;

    public void Configure(EntityTypeBuilder<LogSectionMarkEntity> builder)
    {
        builder.ToTable("log_section_marks");
        builder.HasKey(e => e.Id);
        builder.Property(e => e.Id).ValueGeneratedOnAdd();
        builder.Property(e => e.Kind).HasConversion<string>().HasMaxLength(8);
        builder.Property(e => e.Format).HasConversion<string>().HasMaxLength(16);
        builder.Property(e => e.Name).HasMaxLength(MaxName);
        builder.Property(e => e.Title).HasMaxLength(MaxTitle);

        // A job's sections are read whole, in the order they were recorded.
        builder.HasIndex(e => new { e.JobId, e.Timestamp });
        builder.HasOne<JobEntity>().WithMany().HasForeignKey(e => e.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
