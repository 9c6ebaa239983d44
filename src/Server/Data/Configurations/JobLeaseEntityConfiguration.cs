using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class JobLeaseEntityConfiguration : IEntityTypeConfiguration<JobLeaseEntity>
{
    public void Configure(EntityTypeBuilder<JobLeaseEntity> builder)
    {
        builder.ToTable("job_leases");
        builder.HasKey(l => l.Id);
        builder.Property(l => l.Id).ValueGeneratedOnAdd();
        builder.Property(l => l.Owner).HasMaxLength(64);

        // A takeover closes the open lease of each job it takes; an assignment looks for one.
        builder.HasIndex(l => new { l.JobId, l.Owner });
        builder.HasOne<JobEntity>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}
