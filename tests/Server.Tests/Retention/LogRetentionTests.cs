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

public sealed class LogRetentionTests
{
    [Theory]
    [InlineData("30d", 30 * 24 * 60)]
    [InlineData("12h", 12 * 60)]
    [InlineData("90m", 90)]
    [InlineData(" 1d ", 24 * 60)]
    public void Setting_ReadsDaysHoursAndMinutes(string text, int minutes) =>
        Assert.Equal(TimeSpan.FromMinutes(minutes), RetentionSetting.Parse(text));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Setting_UnsetOrEmpty_KeepsEverything(string? text) => Assert.Null(RetentionSetting.Parse(text));

    [Theory]
    [InlineData("30")]
    [InlineData("0d")]
    [InlineData("-1d")]
    [InlineData("1.5h")]
    [InlineData("30s")]
    [InlineData("d")]
    [InlineData("3651d")]
    [InlineData("99999999999m")]
    [InlineData("1w")]
    public void Setting_AnythingElse_IsOneLineNamingTheVariableAndTheValue(string text)
    {
        var e = Assert.Throws<SettingsException>(() => RetentionSetting.Parse(text));
        Assert.StartsWith($"DSTACK_SERVER_LOG_RETENTION={text} is invalid: it must be a whole number of days, hours or minutes such as 30d, 12h or 90m", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Sweep_DeletesTheLogsOfRunsFinishedLongerAgo_InBatches_AndKeepsEverythingElse()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_LOG_RETENTION"] = "12h" },
            configureServices: services =>
            {
                services.AddSingleton<TimeProvider>(time);

                // The test sweeps by hand; the minute timer would race it for the same events.
                services.Remove(services.Single(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(LogRetentionService)));
            });
        using var client = server.CreateAdminClient();

        // Old enough: two jobs, one with more events than a batch. Too recent, and still running: kept.
        var now = time.GetUtcNow();
        var old = await SeedAsync(server, "old", now.AddHours(-13), LogRetention.BatchSize * 3 + 7, JobStatus.Done);
        var older = await SeedAsync(server, "older", now.AddDays(-30), 3, JobStatus.Failed);
        var recent = await SeedAsync(server, "recent", now.AddHours(-11), 5, JobStatus.Done);
        var running = await SeedAsync(server, "running", null, 4, JobStatus.Running);

        var retention = server.Services.GetRequiredService<LogRetention>();
        Assert.Equal(LogRetention.BatchSize * 3 + 7 + 3, await retention.SweepAsync(CancellationToken.None));

        Assert.Equal(0, await EventsAsync(server, old));
        Assert.Equal(0, await EventsAsync(server, older));
        Assert.Equal(5, await EventsAsync(server, recent));
        Assert.Equal(4, await EventsAsync(server, running));

        // The runs stay, with their rows; their logs are empty now.
        Assert.Equal(["recent", "old", "older"], (await client.ListRunsAsync()).Where(r => r.RunName != "running").Select(r => r.RunName));
        Assert.Empty((await client.GetLogsAsync("old")).Logs);
        Assert.Equal(5, (await client.GetLogsAsync("recent")).Logs.Count);

        // Two hours on, "recent" is past the retention too; a sweep with nothing to do deletes nothing.
        time.Advance(TimeSpan.FromHours(2));
        Assert.Equal(5, await retention.SweepAsync(CancellationToken.None));
        Assert.Equal(0, await retention.SweepAsync(CancellationToken.None));
        Assert.Equal(4, await EventsAsync(server, running));
    }

    [Fact]
    public async Task WithoutTheSetting_NothingIsDeleted()
    {
        await using var server = new ServerFactory();
        var job = await SeedAsync(server, "ancient", DateTimeOffset.UtcNow.AddYears(-5), 10, JobStatus.Done);
        Assert.Equal(0, await server.Services.GetRequiredService<LogRetention>().SweepAsync(CancellationToken.None));
        Assert.Equal(10, await EventsAsync(server, job));
    }

    private static Task<int> EventsAsync(ServerFactory server, Guid jobId) =>
        server.QueryAsync(db => db.LogEvents.CountAsync(e => e.JobId == jobId));

    /// <summary>A run stored as the processor leaves it: finished and released (or still running), with numbered events.</summary>
    private static Task<Guid> SeedAsync(ServerFactory server, string name, DateTimeOffset? finishedAt, int events, JobStatus status) =>
        server.QueryAsync(async db =>
        {
            var at = (finishedAt ?? DateTimeOffset.UtcNow).AddMinutes(-5);
            var run = new RunEntity { Id = Guid.CreateVersion7(at), RunName = name, SubmittedAt = at };
            var job = new JobEntity
            {
                Id = Guid.CreateVersion7(at), Run = run, Status = status, SubmittedAt = at, FinishedAt = finishedAt,
                Spec = new JobSpec(["true"], null, null, null, null), RunnerReleased = finishedAt is not null,
                Runner = finishedAt is null ? "http://127.0.0.1:9/" : null,
            };
            run.Jobs.Add(job);
            db.Runs.Add(run);
            for (var i = 0; i < events; i++)
            {
                db.LogEvents.Add(new LogEventEntity { JobId = job.Id, Timestamp = at.ToUnixTimeMilliseconds() + i, Message = System.Text.Encoding.UTF8.GetBytes($"line-{i}\n") });
            }

            await db.SaveChangesAsync();
            return job.Id;
        });
}
