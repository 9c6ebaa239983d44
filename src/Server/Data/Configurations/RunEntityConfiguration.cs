using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class RunEntityConfiguration : IEntityTypeConfiguration<RunEntity>
{
    public void Configure(EntityTypeBuilder<RunEntity> builder)
    {
        builder.ToTable("runs");
        builder.HasKey(r => r.Id);
        builder.Property(r => r.RunName).HasMaxLength(41);
        builder.Property(r => r.SubmittedBy).HasMaxLength(41);
        builder.HasIndex(r => new { r.ProjectId, r.RunName }).IsUnique();
        builder.HasOne<ProjectEntity>().WithMany().HasForeignKey(r => r.ProjectId).OnDelete(DeleteBehavior.Restrict);

        // GET /api/runs lists a project's runs newest first a page at a time, keyset on (submitted_at, id): a page is a
        // range read backwards on this index, however many runs are stored (SQLite's implicit rowid is not the id).
        builder.HasIndex(r => new { r.ProjectId, r.SubmittedAt, r.Id });
        builder.HasMany(r => r.Jobs).WithOne(j => j.Run).HasForeignKey(j => j.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}
