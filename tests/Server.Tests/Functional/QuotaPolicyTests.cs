using System.Net;
using System.Text;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// The quota policy through the real server and its real embedded runner (SPEC §2 "Quota policy"): actions from the
/// server's setting and the run's request, validation, the <c>log_quota</c> block, events, and <c>log_source</c>.
/// </summary>
public sealed class QuotaPolicyTests
{
    private const string Seq5000 = "seq 1 5000";

    [Fact]
    public async Task ServerAction_AndWarnings_GoIntoTheJobSpec()
    {
        await using var server = Server(("DSTACK_SERVER_LOG_QUOTA_ACTION", "truncate"), ("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "75,90"));
        using var client = server.CreateAdminClient();

        var byDefault = await client.SubmitAsync(new SubmitRunRequest(["true"]));
        var asked = await client.SubmitAsync(new SubmitRunRequest(["true"], LogQuotaAction: LogQuotaAction.Observe, LogQuotaKillGrace: 30));

        Assert.Equal(LogQuotaAction.Truncate, byDefault.Jobs[0].JobSpec.LogQuotaAction);
        Assert.Equal([75, 90], byDefault.Jobs[0].JobSpec.LogQuotaWarnAt!);
        Assert.Equal(0, byDefault.Jobs[0].JobSpec.LogQuotaKillGrace);
        Assert.Equal(LogQuotaAction.Observe, asked.Jobs[0].JobSpec.LogQuotaAction);
        Assert.Equal(30, asked.Jobs[0].JobSpec.LogQuotaKillGrace);
    }

    [Fact]
    public async Task Observe_UnderAKillServer_IsRefused_NamingBoth()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative),
            ApiClient.Json(new SubmitRunRequest(["true"], LogQuotaAction: LogQuotaAction.Observe)));

        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("log_quota_action observe", detail, StringComparison.Ordinal);
        Assert.Contains("DSTACK_SERVER_LOG_QUOTA_ACTION is kill", detail, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0), await server.CountRowsAsync());

        // Stricter than the server is always allowed.
        var truncate = await client.SubmitAsync(new SubmitRunRequest(["true"], LogQuotaAction: LogQuotaAction.Truncate));
        Assert.Equal(LogQuotaAction.Truncate, truncate.Jobs[0].JobSpec.LogQuotaAction);
    }

    [Theory]
    [InlineData("""{"commands": ["true"], "log_quota_action": "delete"}""", "log_quota_action")]
    [InlineData("""{"commands": ["true"], "log_quota_action": 1}""", "log_quota_action")]
    [InlineData("""{"commands": ["true"], "log_quota_kill_grace": -1}""", "log_quota_kill_grace")]
    [InlineData("""{"commands": ["true"], "log_quota_kill_grace": 3601}""", "log_quota_kill_grace")]
    public async Task BadPolicy_IsRefused_NamingTheField(string body, string field)
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(body));

        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(field, detail, StringComparison.Ordinal);
        Assert.DoesNotContain("LogQuota.", detail, StringComparison.Ordinal); // JSON names, never .NET types
        Assert.Equal((0, 0, 0), await server.CountRowsAsync());
    }

    [Fact]
    public async Task Truncate_RunEndsDone_MarkedTruncated_WithTheQuotaBlockAndEvents()
    {
        await using var server = Server(("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "1000"), ("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "50"));
        using var client = server.CreateAdminClient();

        var submitted = await client.SubmitAsync(new SubmitRunRequest([Seq5000], LogQuotaAction: LogQuotaAction.Truncate));
        var run = await client.WaitForEndAsync(submitted.RunName);

        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Equal("exited (0)", run.StatusMessage);
        Assert.Null(run.Error);
        Assert.True(run.LogTruncated);
        var quota = run.LogQuota!;
        Assert.Equal(1000, quota.Limit);
        Assert.Equal(LogQuotaAction.Truncate, quota.Action);
        Assert.True(quota.DroppedBytes > 20_000);
        Assert.NotNull(quota.ExceededAt);
        Assert.Equal(quota.BucketStartedAt.AddHours(1), quota.BucketResetsAt);
        Assert.NotNull(quota.Report);
        Assert.Equal(
            [JobEventTypes.LogQuotaWarning, JobEventTypes.LogQuotaExceeded, JobEventTypes.LogTruncated],
            run.Events.Select(e => e.Type));
        Assert.Matches(@"^(50% of the log quota used|\d+% of the log quota used \(warning at 50%\)): ", run.Events[0].Message);

        // The list shows the same block and flag.
        var row = Assert.Single(await client.ListRunsAsync());
        Assert.True(row.LogTruncated);
        Assert.Equal(quota.DroppedBytes, row.LogQuota!.DroppedBytes);
    }

    [Fact]
    public async Task Markers_AreRunnerEvents_NeverCounted_AndSourceFiltersThem()
    {
        await using var server = Server(("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "1000"), ("DSTACK_SERVER_LOG_QUOTA_WARN_AT", "50"));
        using var client = server.CreateAdminClient();

        var submitted = await client.SubmitAsync(new SubmitRunRequest([Seq5000]));
        var run = await client.WaitForEndAsync(submitted.RunName);
        Assert.Equal("log quota exceeded", run.Error);

        var all = await client.GetLogsAsync(run.RunName);
        var stdout = all.Logs.Where(l => l.LogSource == LogSource.Stdout).Sum(l => (long)l.Message.Length);
        Assert.Equal(stdout, run.LogBytesHour);
        Assert.Equal(stdout, run.LogQuota!.UsedBytesHour);
        var runnerText = Encoding.UTF8.GetString([.. all.Logs.Where(l => l.LogSource == LogSource.Runner).SelectMany(l => l.Message)]);
        Assert.Matches(@"\[logquota\] warning: (50% of the log quota used|\d+% of the log quota used \(warning at 50%\)): ", runnerText);
        Assert.EndsWith("[logquota] log quota of 1000 B for this hour reached; the job is being killed\n", runnerText, StringComparison.Ordinal);

        var job = await client.GetLogsAsync(run.RunName, "?source=job");
        Assert.All(job.Logs, l => Assert.Equal(LogSource.Stdout, l.LogSource));
        Assert.Equal(stdout, job.Logs.Sum(l => (long)l.Message.Length));
        var runner = await client.GetLogsAsync(run.RunName, "?source=runner");
        Assert.All(runner.Logs, l => Assert.Equal(LogSource.Runner, l.LogSource));
        Assert.Equal(2, runner.Logs.Count);

        var text = Encoding.UTF8.GetString(await client.GetLogsTextAsync(run.RunName));
        Assert.Contains("[logquota] log quota of 1000 B", text, StringComparison.Ordinal);
        using var jobText = await client.GetAsync(new Uri($"/api/runs/{run.RunName}/logs?format=text&source=job", UriKind.Relative));
        var jobOnly = await jobText.Content.ReadAsStringAsync();
        Assert.DoesNotContain("[logquota]", jobOnly, StringComparison.Ordinal);
        Assert.Equal(stdout, Encoding.UTF8.GetByteCount(jobOnly));

        using var bad = await client.GetAsync(new Uri($"/api/runs/{run.RunName}/logs?source=stderr", UriKind.Relative));
        Assert.Contains("source must be job, runner or all", await ApiClient.AssertProblemAsync(bad, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Observe_StoresEverything_AndRecordsTheCrossing()
    {
        await using var server = Server(("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "1000"), ("DSTACK_SERVER_LOG_QUOTA_ACTION", "observe"));
        using var client = server.CreateAdminClient();

        var submitted = await client.SubmitAsync(new SubmitRunRequest([Seq5000]));
        var run = await client.WaitForEndAsync(submitted.RunName);

        Assert.Equal(RunStatus.Done, run.Status);
        Assert.False(run.LogTruncated);
        Assert.Equal(string.Concat(Enumerable.Range(1, 5000).Select(i => $"{i}\n")).Length, run.LogBytesHour);
        Assert.NotNull(run.LogQuota!.ExceededAt);
        Assert.Contains(run.Events, e => e.Type == JobEventTypes.LogQuotaExceeded && e.Message.Contains("observe only", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Stop_IsARunEvent()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();
        var submitted = await client.SubmitAsync(new SubmitRunRequest(["sleep 60"]));
        await client.WaitForAsync(submitted.RunName, r => r.Status == RunStatus.Running);

        using var stop = await client.PostAsync(new Uri($"/api/runs/{submitted.RunName}/stop", UriKind.Relative), null);
        var run = await client.WaitForEndAsync(submitted.RunName);

        Assert.Equal(JobEventTypes.StopRequested, Assert.Single(run.Events).Type);
    }

    private static ServerFactory Server(params (string Name, string Value)[] settings) =>
        new(settings.ToDictionary(s => s.Name, s => s.Value));
}
