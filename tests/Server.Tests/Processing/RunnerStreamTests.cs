using System.Text;
using LogQuota.Server.Configuration;
using LogQuota.Server.Processing;
using LogQuota.Server.Replicas;
using LogQuota.Server.Runners;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Processing;

/// <summary>
/// The server reading its runner's one stream (the server's own local runner, real jobs, real SQLite): jobs' lines stored
/// once through it, the runner's cursor stored with them, and no per-job call for a job that only runs.
/// </summary>
public sealed class RunnerStreamTests
{
    [Fact]
    public async Task RunningJobs_AreCarriedByTheStream_NoPassCallsTheirRunner_AndEveryLineIsStoredOnce()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_PULL"] = "stream" });
        using var client = server.CreateAdminClient();
        for (var i = 0; i < 5; i++)
        {
            await client.SubmitAsync(new SubmitRunRequest([$"for n in 1 2 3; do echo idle{i}-$n; done; sleep 600"], RunName: $"idle-{i}", Tty: false));
        }

        for (var i = 0; i < 5; i++)
        {
            var expected = $"idle{i}-1\nidle{i}-2\nidle{i}-3\n";
            await WaitAsync(async () => Encoding.UTF8.GetString(await client.GetLogsTextAsync($"idle-{i}")) == expected, $"idle-{i}'s three lines");
        }

        var cursor = await server.QueryAsync(db => db.RunnerStreams.Select(r => r.Cursor).SingleAsync());
        Assert.NotNull(cursor);

        // Every job is running and its events came through the stream: a pass has no runner call to make for any of them, and
        // does not even read them.
        var streamed = server.Services.GetRequiredService<StreamedJobs>();
        var leases = server.Services.GetRequiredService<JobLeases>();
        var runners = server.Services.GetRequiredService<RunnerPool>();
        await WaitAsync(
            async () => (await server.QueryAsync(async db => await leases.ClaimAsync(
                db, runners.Runners, includeUnsubmitted: true, await streamed.RefreshAsync(db, finalPass: false, CancellationToken.None), CancellationToken.None))).Count == 0,
            "a pass that claims no job: none needs a call to its runner");

        for (var i = 0; i < 5; i++)
        {
            using var stopped = await client.PostAsync(new Uri($"/api/runs/idle-{i}/stop", UriKind.Relative), null);
            Assert.True(stopped.IsSuccessStatusCode, await stopped.Content.ReadAsStringAsync());
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(RunStatus.Terminated, (await client.WaitForEndAsync($"idle-{i}")).Status);
            Assert.Equal($"idle{i}-1\nidle{i}-2\nidle{i}-3\n", Encoding.UTF8.GetString(await client.GetLogsTextAsync($"idle-{i}")));
        }

        // Ended jobs are deleted on the runner and released, as with per-job pulls.
        await WaitAsync(async () => await server.QueryAsync(db => db.Jobs.AllAsync(j => j.RunnerReleased)), "every job released on its runner");
    }

    [Fact]
    public async Task PullPerJob_StillStoresEveryLine_WithoutAStream()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_PULL"] = "job" });
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["for n in $(seq 1 50); do echo line$n; done"], RunName: "per-job", Tty: false));

        Assert.Equal(RunStatus.Done, (await client.WaitForEndAsync("per-job")).Status);
        Assert.Equal(string.Concat(Enumerable.Range(1, 50).Select(n => $"line{n}\n")), Encoding.UTF8.GetString(await client.GetLogsTextAsync("per-job")));
        Assert.Equal(0, await server.QueryAsync(db => db.RunnerStreams.CountAsync()));
    }

    [Theory]
    [InlineData("", PullMode.Stream)]
    [InlineData("stream", PullMode.Stream)]
    [InlineData(" JOB ", PullMode.Job)]
    public void ThePullSetting_IsRead(string text, PullMode expected) => Assert.Equal(expected, ServerSettingsLoader.ParsePull(text));

    // The stream stores a plain page's job row with its own statement, not through the change tracker the followers'
    // notification reads (RunnerStreamStore): the commit must still wake the run's followers.
    [Fact]
    public async Task AStreamedLine_WakesTheRunsFollowers_WithTheCommitThatStoresIt()
    {
        using var gate = new TempDirectory();
        if (!OperatingSystem.IsWindows())
        {
            // A job under a uid of its own looks for the gate file: it must be able to search the directory.
            File.SetUnixFileMode(gate.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var open = Path.Combine(gate.Path, "open");
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_PULL"] = "stream" });
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(
            [$"echo one; while [ ! -e {open} ]; do sleep 0.1; done; echo two; sleep 600"], RunName: "followed", Tty: false));
        await WaitAsync(async () => Encoding.UTF8.GetString(await client.GetLogsTextAsync("followed")) == "one\n", "the first line stored");
        var runId = await server.QueryAsync(db => db.Runs.Where(r => r.RunName == "followed").Select(r => r.Id).SingleAsync());

        using var follower = server.Services.GetRequiredService<LogQuota.Server.Logs.LogFeed>().Follow(runId);
        var version = follower.Version;
        await File.WriteAllTextAsync(open, "");
        await WaitAsync(async () => Encoding.UTF8.GetString(await client.GetLogsTextAsync("followed")) == "one\ntwo\n", "the second line stored");
        Assert.True(follower.Version > version, "the commit that stored the second line did not wake the run's followers");

        using var stopped = await client.PostAsync(new Uri("/api/runs/followed/stop", UriKind.Relative), null);
        Assert.True(stopped.IsSuccessStatusCode, await stopped.Content.ReadAsStringAsync());
        await client.WaitForEndAsync("followed");
    }

    [Fact]
    public void ABadPullSetting_IsOneLineNamingTheVariable()
    {
        var e = Assert.Throws<SettingsException>(() => ServerSettingsLoader.ParsePull("sometimes"));
        Assert.Equal("DSTACK_SERVER_PULL=sometimes is invalid: it must be stream (one long-polled stream per runner) or job (one pull per job per pass).", e.Message);
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for {what}");
            await Task.Delay(100);
        }
    }
}
