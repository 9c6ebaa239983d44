using System.Net;
using System.Text;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Functional;

/// <summary>Whole runs through the real server and its embedded runner: real processes, real SQLite.</summary>
public sealed class RunLifecycleTests
{
    [Fact]
    public async Task ANewRun_IsSubmitted_InThePostAnswer_AndInTheGetAnswer_AsInDstack()
    {
        // No processing loop: the job stays where the POST left it, waiting for a runner.
        await using var server = new ServerFactory(passesByTest: true);
        using var client = server.CreateAdminClient();

        var posted = await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "brand-new"));
        var got = await client.GetRunAsync("brand-new");

        Assert.Equal(RunStatus.Submitted, posted.Status);
        Assert.Equal(RunStatus.Submitted, got.Status);
        Assert.Equal(JobStatus.Submitted, Assert.Single(got.Jobs).Status);
        using var wire = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/runs/brand-new", UriKind.Relative)));
        Assert.Equal("submitted", wire.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Submit_RunsToDone_WithItsLogs()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        var submitted = await client.SubmitAsync(new SubmitRunRequest(["echo hello", "echo world"], RunName: "hello"));
        Assert.Equal("hello", submitted.RunName);
        Assert.Equal(RunStatus.Submitted, submitted.Status);

        var run = await client.WaitForEndAsync("hello");
        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Equal("exited (0)", run.StatusMessage);
        Assert.Null(run.Error);
        Assert.Equal(0, run.ExitStatus);
        Assert.NotNull(run.FinishedAt);
        var job = Assert.Single(run.Jobs);
        Assert.Equal(JobStatus.Done, job.Status);
        Assert.NotNull(job.Runner);
        Assert.Equal(["echo hello", "echo world"], job.JobSpec.Commands);

        var text = Encoding.UTF8.GetString(await client.GetLogsTextAsync("hello"));
        Assert.Contains("hello", text, StringComparison.Ordinal);
        Assert.Contains("world", text, StringComparison.Ordinal);

        var row = Assert.Single(await client.ListRunsAsync());
        Assert.Equal("exited (0)", row.StatusMessage);

        // Once everything is stored, the runner is told to forget the job.
        await WaitUntilAsync(() => server.QueryAsync(db => db.Jobs.AnyAsync(j => j.RunnerReleased)));
    }

    [Fact]
    public async Task NonZeroExit_IsFailed_ExitedN()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["echo bye", "exit 3"], RunName: "exit3"));

        var run = await client.WaitForEndAsync("exit3");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("exited (3)", run.StatusMessage);
        Assert.Null(run.Error);
        Assert.Equal(3, run.ExitStatus);
    }

    [Fact]
    public async Task QuotaExceeded_FailsTheRun_KeepingTheLogsStoredBeforeTheKill()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(
            ["i=0; while true; do i=$((i+1)); echo \"line $i of a job that never stops talking\"; done"],
            RunName: "chatty",
            LogQuotaHour: 1000));

        var run = await client.WaitForEndAsync("chatty");
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("error", run.StatusMessage);
        Assert.Equal("log quota exceeded", run.Error);
        Assert.Equal(TerminationReason.LogQuotaExceeded, run.TerminationReason);
        Assert.Equal("Job log output exceeded the hourly quota of 1000 bytes", run.TerminationMessage);
        Assert.Null(run.ExitStatus);
        Assert.Equal(1000, run.LogQuotaHour);
        Assert.Equal(1000, run.Jobs[0].JobSpec.LogQuotaHour);

        var stored = Encoding.UTF8.GetString(await client.GetLogsTextAsync("chatty"));
        Assert.StartsWith("line 1 of a job", stored, StringComparison.Ordinal);
        Assert.EndsWith("\n[logquota] log quota of 1000 B for this hour reached; the job is being killed\n", stored, StringComparison.Ordinal);
        var jobOutput = (await client.GetLogsAsync("chatty", "?source=job")).Logs.Sum(l => l.Message.Length);
        Assert.InRange(jobOutput, 1, 1000);
        Assert.Equal(jobOutput, run.LogBytesHour);
    }

    [Fact]
    public async Task Stop_TerminatesTheRun_AsStopped()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["echo started", "sleep 60"], RunName: "sleeper"));
        await client.WaitForAsync("sleeper", r => r.Status == RunStatus.Running);

        using var response = await client.PostAsync(new Uri("/api/runs/sleeper/stop", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var run = await client.WaitForEndAsync("sleeper");
        Assert.Equal(RunStatus.Terminated, run.Status);
        Assert.Equal("stopped", run.StatusMessage);
        Assert.Null(run.Error);
        Assert.Equal(TerminationReason.TerminatedByUser, run.TerminationReason);
    }

    [Fact]
    public async Task MaxDuration_TerminatesTheRun()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["sleep 60"], RunName: "slow", MaxDuration: 1));

        var run = await client.WaitForEndAsync("slow");
        Assert.Equal(RunStatus.Terminated, run.Status);
        Assert.Equal("terminated", run.StatusMessage);
        Assert.Equal("max duration exceeded", run.Error);
        Assert.Equal(TerminationReason.MaxDurationExceeded, run.TerminationReason);
    }

    [Fact]
    public async Task Delete_RemovesAFinishedRunAndItsLogs_ButNotARunningOne()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["echo one"], RunName: "short"));
        await client.SubmitAsync(new SubmitRunRequest(["sleep 60"], RunName: "long"));
        await client.WaitForEndAsync("short");
        await client.WaitForAsync("long", r => r.Status == RunStatus.Running);

        using (var refused = await client.DeleteAsync(new Uri("/api/runs/long", UriKind.Relative)))
        {
            await ApiClient.AssertProblemAsync(refused, HttpStatusCode.Conflict);
        }

        using (var deleted = await client.DeleteAsync(new Uri("/api/runs/short", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using (var gone = await client.GetAsync(new Uri("/api/runs/short", UriKind.Relative)))
        {
            await ApiClient.AssertProblemAsync(gone, HttpStatusCode.NotFound);
        }

        Assert.Equal("long", Assert.Single(await client.ListRunsAsync()).RunName);
        Assert.Equal(1, await server.QueryAsync(db => db.Jobs.CountAsync()));
        using var stop = await client.PostAsync(new Uri("/api/runs/long/stop", UriKind.Relative), null);
        await client.WaitForEndAsync("long");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition never held.");
            await Task.Delay(50);
        }
    }
}
