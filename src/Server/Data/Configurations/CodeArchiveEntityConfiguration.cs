using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class CodeArchiveEntityConfiguration : IEntityTypeConfiguration<CodeArchiveEntity>
{
    public void Configure(EntityTypeBuilder<CodeArchiveEntity> builder)
    {
        builder.ToTable("code_archives");
        builder.HasKey(a => a.Sha256);
        builder.Property(a => a.Sha256).HasMaxLength(64);

        // The garbage collector looks up the archives not used since a cutoff.
        builder.HasIndex(a => a.UsedAt);
    }
}

internal sealed class CodeChunkEntityConfiguration : IEntityTypeConfiguration<CodeChunkEntity>
{
    public void Configure(EntityTypeBuilder<CodeChunkEntity> builder)
    {
        builder.ToTable("code_chunks");
        builder.HasKey(c => new { c.Sha256, c.Seq });
        builder.Property(c => c.Sha256).HasMaxLength(64);

        // Deleting an archive's row deletes its bytes in the same statement.
        builder.HasOne<CodeArchiveEntity>().WithMany().HasForeignKey(c => c.Sha256).OnDelete(DeleteBehavior.Cascade);
    }
}
