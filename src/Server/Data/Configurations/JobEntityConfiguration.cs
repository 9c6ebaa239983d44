using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace LogQuota.Server.Data.Configurations;

internal sealed class JobEntityConfiguration : IEntityTypeConfiguration<JobEntity>
{
    public void Configure(EntityTypeBuilder<JobEntity> builder)
    {
        builder.ToTable("jobs");
        builder.HasKey(j => j.Id);
        builder.Property(j => j.Spec)
            .HasColumnName("job_spec")
            .HasConversion(
                spec => ToJson(spec),
                json => FromJson(json),
                new ValueComparer<JobSpec>((a, b) => a == b, spec => spec.GetHashCode()));
        builder.Property(j => j.LogQuota)
            .HasConversion(
                quota => QuotaJson(quota),
                json => json == null ? null : JsonSerializer.Deserialize<LogQuotaStatus>(json, LogQuotaJson.Options),
                new ValueComparer<LogQuotaStatus?>((a, b) => a == b, quota => quota == null ? 0 : quota.GetHashCode()));
        builder.Property(j => j.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(j => j.TerminationReason).HasConversion<string>().HasMaxLength(32);
        builder.Property(j => j.StopReason).HasConversion<string>().HasMaxLength(32);
        builder.Property(j => j.Runner).HasMaxLength(2048);
        builder.Property(j => j.LeaseOwner).HasMaxLength(64);
        builder.Property(j => j.CodeHash).HasMaxLength(64);

        // The pull position fences every write of a job: a replica whose lease was taken over, and which stores a page
        // it pulled before, finds the position moved and rolls the page back (LOCKING.md), so no event is stored twice.
        builder.Property(j => j.RunnerTimestamp).IsConcurrencyToken();

        // The processor's every tick looks up the jobs that are not finished.
        builder.HasIndex(j => j.Status);

        // A project's active runs (GET /api/runs?only_active=true) start from its jobs that are not finished.
        builder.HasIndex(j => new { j.ProjectId, j.Status });

        // DSTACK_SERVER_LOG_RETENTION looks up the jobs that finished before a cutoff.
        builder.HasIndex(j => new { j.FinishedAt, j.Id });

        // The code garbage collector asks whether any job still refers to an archive.
        builder.HasIndex(j => j.CodeHash);
    }

    /// <summary>The <c>log_quota</c> column's text, as EF writes it (and <see cref="JobRowWriter"/>, which writes it without EF).</summary>
    internal static string? QuotaJson(LogQuotaStatus? quota) => quota == null ? null : JsonSerializer.Serialize(quota, LogQuotaJson.Options);

    private static string ToJson(JobSpec spec) => JsonSerializer.Serialize(spec, LogQuotaJson.Options);

    private static JobSpec FromJson(string json) => JsonSerializer.Deserialize<JobSpec>(json, LogQuotaJson.Options)!;
}
