using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Retention;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Retention;

/// <summary>The past hours of projects' budgets, and their evidence, go once nothing reports them; on SQLite and PostgreSQL.</summary>
public sealed class BudgetHourRetentionTests
{
    [SkippableTheory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task Sweep_KeepsTheCurrentHourAndEachProjectsLastCrossedHour_AndDeletesTheRest_WithTheirEvidence(DatabaseProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 6, 15, 20, 0, TimeSpan.Zero));
        await using var server = new ServerFactory(
            database: database,
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(time);

                // The test sweeps by hand; the timer's sweep at start would race it.
                services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(BudgetHourRetentionService)));
            });
        var now = new DateTimeOffset(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);
        var (crossedLong, crossedRecently, never) = (Guid.CreateVersion7(), Guid.CreateVersion7(), Guid.CreateVersion7());
        await server.QueryAsync(async db =>
        {
            db.Projects.AddRange(
                new ProjectEntity { Id = crossedLong, Name = "a", CreatedAt = now, LogBudgetHour = 100 },
                new ProjectEntity { Id = crossedRecently, Name = "b", CreatedAt = now, LogBudgetHour = 100 },
                new ProjectEntity { Id = never, Name = "c", CreatedAt = now, LogBudgetHour = 100 });

            // a: crossed 20 hours ago, quiet since; b: crossed at 10:00 and 13:00; c: never crossed.
            Hour(db, crossedLong, now.AddHours(-20), crossed: true);
            Hour(db, crossedLong, now.AddHours(-19), crossed: false);
            Hour(db, crossedRecently, now.AddHours(-5), crossed: true);
            Hour(db, crossedRecently, now.AddHours(-2), crossed: true);
            Hour(db, crossedRecently, now.AddHours(-1), crossed: false);
            Hour(db, crossedRecently, now, crossed: false);
            Hour(db, never, now.AddHours(-1), crossed: false);
            Hour(db, never, now, crossed: false);
            return await db.SaveChangesAsync();
        });

        var retention = server.Services.GetRequiredService<BudgetHourRetention>();
        Assert.Equal(4, await retention.SweepAsync(CancellationToken.None));

        var kept = await server.QueryAsync(db => db.ProjectBudgetHours.AsNoTracking().Select(h => new { h.ProjectId, h.HourStart }).ToListAsync());
        Assert.Equal(
            new[] { new { ProjectId = crossedLong, HourStart = now.AddHours(-20) }, new { ProjectId = crossedRecently, HourStart = now.AddHours(-2) }, new { ProjectId = crossedRecently, HourStart = now }, new { ProjectId = never, HourStart = now } }.ToHashSet(),
            kept.ToHashSet());
        var evidence = await server.QueryAsync(db => db.ProjectBudgetEvidence.AsNoTracking().Select(e => new { e.ProjectId, e.HourStart }).ToListAsync());
        Assert.Equal(kept.ToHashSet(), evidence.ToHashSet());

        // The report still reads the hour that crossed; a sweep with nothing to do deletes nothing.
        using var client = server.CreateAdminClient();
        var project = await client.GetFromJsonAsync<ProjectInfo>(new Uri("/api/projects/b", UriKind.Relative), Shared.Json.LogQuotaJson.Options);
        Assert.Equal(now.AddHours(-2), project!.LogBudget!.Report!.HourStartedAt);
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));

        // An hour on, the hour that was current is past and reported by nothing: it goes too.
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(2, await retention.SweepAsync(CancellationToken.None));
    }

    private static void Hour(ServerDbContext db, Guid project, DateTimeOffset start, bool crossed)
    {
        db.ProjectBudgetHours.Add(new ProjectBudgetHourEntity { ProjectId = project, HourStart = start, UsedBytes = 100, ExceededAt = crossed ? start.AddMinutes(30) : null });
        db.ProjectBudgetEvidence.Add(new ProjectBudgetEvidenceEntity { ProjectId = project, HourStart = start, DroppedLines = 1 });
    }
}
