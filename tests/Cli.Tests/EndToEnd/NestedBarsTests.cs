using System.Net.Http.Json;
using System.Text;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// Issue #12 end to end: a real job drawing two nested progress bars, run by the real server's embedded runner and
/// followed by the real CLI in a real terminal (a tmux pane). The bars move in place on screen, are stored once in
/// their final state, and the stored bytes are exactly what the quota counted.
/// </summary>
[Collection(LocalServerGroup.Name)]
public sealed class NestedBarsTests(LocalServer server)
{
    // 30 frames, 0.1 s apart: an outer and an inner bar redrawn in place with "\r" and CSI A, as tqdm draws them.
    // After frames 10 and 25 the job waits for a gate file the test creates once it has seen that frame on screen, so
    // a follower slowed by a loaded machine still sees an early and a later frame (once it took over 3 s to see one).
    private static string Bars(string gate) =>
        "i=0; while [ $i -lt 30 ]; do i=$((i+1)); printf '\\router %3d%%\\n\\rinner %3d%%\\033[A' $i $i; sleep 0.1; "
        + $"if [ $i -eq 10 ] || [ $i -eq 25 ]; then while [ ! -e {gate}.$i ]; do sleep 0.05; done; fi; done; "
        + "printf '\\n\\n'; echo trained";

    [SkippableFact]
    public async Task NestedBars_MoveInPlaceUnderLogsFollow_AndAreStoredOnceInTheirFinalState()
    {
        var unavailable = TmuxPane.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        const string runName = "e2e-nested-bars";
        // In the temp directory itself: a job under its own uid can see it there (the server's directory is 0700).
        var gate = Path.Combine(Path.GetTempPath(), $"logquota-bars-gate-{Guid.NewGuid():N}");
        using var http = server.CreateAdminHttpClient();
        using (var submitted = await http.PostAsJsonAsync("/api/runs", new { run_name = runName, commands = new[] { Bars(gate) } }))
        {
            Assert.True(submitted.IsSuccessStatusCode, await submitted.Content.ReadAsStringAsync());
        }

        using var pane = TmuxPane.Start(TmuxPane.CliScript(server.CliEnvironment, ["logs", "-f", runName]), 120, 30);

        // While it runs: both bars on screen, one row each, and later frames replace earlier ones on the same rows.
        try
        {
            var first = await pane.WaitForAsync(screen => Percent(screen) is > 0 and < 20, "the bars at an early frame");
            AssertBarsOnce(first);
            File.Create(gate + ".10").Dispose();
            var later = await pane.WaitForAsync(screen => Percent(screen) is >= 20 and < 30, "the bars at a later frame");
            AssertBarsOnce(later);
            File.Create(gate + ".25").Dispose();

            var done = await pane.WaitForAsync(screen => screen.Contains("[exit 0]"), "the end of the run");
            Assert.Equal(["outer  30%", "inner  30%", "trained", "[exit 0]"], done);
        }
        finally
        {
            File.Delete(gate + ".10");
            File.Delete(gate + ".25");
        }

        // The stored log holds the final bars once, and log_bytes_hour counted exactly those bytes.
        var logs = await http.GetByteArrayAsync($"/api/runs/{runName}/logs?format=text");
        Assert.Equal("outer  30%\ninner  30%\ntrained\n", Encoding.UTF8.GetString(logs));
        var details = await http.GetFromJsonAsync<RunDetails>($"/api/runs/{runName}", LogQuotaJson.Options);
        Assert.Equal(logs.Length, details!.LogBytesHour);
    }

    /// <summary>The percentage both bars show, or -1 unless the screen holds exactly one outer and one inner bar row that agree.</summary>
    private static int Percent(IReadOnlyList<string> screen)
    {
        var outer = screen.Where(r => r.StartsWith("outer", StringComparison.Ordinal)).ToList();
        var inner = screen.Where(r => r.StartsWith("inner", StringComparison.Ordinal)).ToList();
        if (outer.Count != 1 || inner.Count != 1 || outer[0][5..] != inner[0][5..])
        {
            return -1;
        }

        return int.Parse(outer[0][5..].Trim().TrimEnd('%'), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void AssertBarsOnce(IReadOnlyList<string> screen)
    {
        var rows = screen.ToList();
        int outer = rows.FindIndex(r => r.StartsWith("outer", StringComparison.Ordinal));
        Assert.Single(rows, r => r.StartsWith("outer", StringComparison.Ordinal));
        Assert.Single(rows, r => r.StartsWith("inner", StringComparison.Ordinal));
        Assert.StartsWith("inner", rows[outer + 1], StringComparison.Ordinal);
    }
}
