using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// SPEC §6 storage faults on a real full disk: the server directory on a small tmpfs (mounted here, as root) that fills
/// up while a job writes numbered lines.
/// </summary>
public sealed class FullDiskTests
{
    private const int Lines = 30_000;
    private static readonly string Padding = new('x', 100);

    // Over 60 s: it watches the pulls back off for a fixed 30 s window while the disk stays full (the back-off is what
    // it measures), and the job's own end waits 20 s after its lines so that the stall is seen while the job still runs.
    [SkippableFact]
    public async Task ServerDiskFills_WritesAnswer503_PullsBackOff_AndWhenSpaceReturnsEveryLineIsStoredOnce()
    {
        await using var mount = await Tmpfs.MountAsync(sizeMiB: 16);
        await using var system = await SystemProcesses.StartAsync(runners: 1,
            serverSettings: new() { ["DSTACK_SERVER_DIR"] = mount.Path },
            // The runner's request log (one "Request starting ... /pull?" line per pull) is what counts the pulls.
            runnerSettings: new() { ["Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information" });

        // All but 1 MiB taken: the job's 3.4 MB of lines cannot all be stored.
        var filler = Path.Combine(mount.Path, "filler");
        await FillAsync(filler, new DriveInfo(mount.Path).AvailableFreeSpace - (1 << 20));
        await system.SubmitAsync(new SubmitRunRequest(
            [$"for i in $(seq 1 {Lines}); do echo \"line-$i-{Padding}\"; done; sleep 20; echo the end"], RunName: "numbered", Tty: false));

        var detail = await WaitForHealthAsync(system, HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(90));
        Assert.Contains("disk full", detail, StringComparison.Ordinal);

        using (var submit = await system.Server.PostAsJsonAsync("/api/runs", new SubmitRunRequest(["true"], RunName: "refused"), LogQuotaJson.Options))
        {
            var body = await submit.Content.ReadAsStringAsync();
            Assert.True(submit.StatusCode == HttpStatusCode.ServiceUnavailable, $"{(int)submit.StatusCode}: {body}");
            Assert.Equal("application/problem+json", submit.Content.Headers.ContentType?.MediaType);
            Assert.Contains("disk full", JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.True(submit.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {submit.Headers.RetryAfter}");
        }

        // Pulls while the disk stays full: backed off (1 s, 2 s, ... 30 s between passes, two pulls at most per pass),
        // where the server used to pull every poll interval (0.2 s here: 150 passes in 30 s).
        var before = Pulls(system);
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(30));
        var pulls = Pulls(system) - before;
        Assert.InRange(pulls, 0, 12);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await HealthAsync(system)).Status);

        // Space returns: processing resumes on its own, and the run ends with every line, in order, once.
        File.Delete(filler);
        var run = await system.WaitFinishedAsync("numbered", TimeSpan.FromSeconds(120));
        Assert.Equal(RunStatus.Done, run.Status);
        var expected = new StringBuilder();
        for (var i = 1; i <= Lines; i++)
        {
            expected.Append("line-").Append(i).Append('-').Append(Padding).Append('\n');
        }

        expected.Append("the end\n");
        Assert.True(expected.ToString() == Encoding.UTF8.GetString(await system.LogTextAsync("numbered")), "the stored log differs from the lines written");
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(system)).Status);

        // One event for the stall, not one per retry. A stall whose start the full database could not take is recorded
        // by the first pass that stores again, after that pass's pages: it may land just after the run shows done.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!run.Events.Any(e => e.Type == JobEventTypes.PullStalled) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
            run = (await system.Server.GetFromJsonAsync<RunDetails>("/api/runs/numbered", LogQuotaJson.Options))!;
        }

        var stalled = Assert.Single(run.Events, e => e.Type == JobEventTypes.PullStalled);
        Assert.Contains("disk full", stalled.Message, StringComparison.Ordinal);
        Assert.True(pulls <= 12, $"{pulls} pulls in {window.Elapsed.TotalSeconds:0} s");
    }

    private static async Task FillAsync(string filler, long bytes)
    {
        // Written, not just sized: tmpfs counts only pages that hold data.
        var chunk = new byte[1 << 20];
        await using var file = new FileStream(filler, FileMode.CreateNew, FileAccess.Write);
        for (long written = 0; written < bytes; written += chunk.Length)
        {
            await file.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - written)));
        }
    }

    /// <summary>Pulls the runner received so far, per job (<c>/api/jobs/{id}/pull?timestamp=</c>) or of its stream
    /// (<c>/api/pull?wait=</c>): its "Request starting" lines (each request also has a "finished" one).</summary>
    private static int Pulls(SystemProcesses system) =>
        system.ProcessOutput.Split('\n').Count(l => l.Contains("Request starting", StringComparison.Ordinal) &&
            (l.Contains("/pull?timestamp=", StringComparison.Ordinal) || l.Contains("/api/pull?", StringComparison.Ordinal)));

    private static async Task<(HttpStatusCode Status, string Body)> HealthAsync(SystemProcesses system)
    {
        using var response = await system.Server.GetAsync("/api/healthcheck");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task<string> WaitForHealthAsync(SystemProcesses system, HttpStatusCode status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var (got, body) = await HealthAsync(system);
            if (got == status)
            {
                return body;
            }

            Assert.True(DateTime.UtcNow < deadline, $"health still {(int)got} {body}\n{system.ProcessOutput[^Math.Min(4000, system.ProcessOutput.Length)..]}");
            await Task.Delay(200);
        }
    }
}
