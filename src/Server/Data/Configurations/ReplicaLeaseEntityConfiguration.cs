using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class ReplicaLeaseEntityConfiguration : IEntityTypeConfiguration<ReplicaLeaseEntity>
{
    public void Configure(EntityTypeBuilder<ReplicaLeaseEntity> builder)
    {
        builder.ToTable("replica_leases");
        builder.HasKey(r => r.Owner);
        builder.Property(r => r.Owner).HasMaxLength(64);
    }
}
