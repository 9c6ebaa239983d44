using System.Net.Http.Json;
using System.Text;
using LogQuota.Server.Tests.Functional;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Teams;

/// <summary>
/// A secret handed to real jobs by the real server and its embedded runner never reaches a view nor the database: the
/// stored log (JSON pages and <c>format=text</c>), <c>live</c>, the dropped tail, the run's details and the server's
/// log show <c>***</c> or nothing, <c>log_bytes_hour</c> counts <c>***</c>, and the SQLite file and its WAL, scanned
/// byte by byte once the server has closed them, hold neither the value nor any 12 characters of it.
/// </summary>
public sealed class SecretMaskingTests
{
    private const string Printing = """
        printf 'whole %s\n' "$HF_TOKEN"; printf 'split %s' "$(printf %s "$HF_TOKEN" | cut -c1-20)"; sleep 1; printf '%s end\n' "$(printf %s "$HF_TOKEN" | cut -c21-)"; i=0; while [ $i -lt 1000 ]; do printf '\rbar %d %s' $i "$HF_TOKEN"; i=$((i+1)); done; printf '\n'; printf '%0180d%s wrapped\n' 0 "$HF_TOKEN"
        """;

    [Fact]
    public async Task TheValue_IsInNoViewNoRowAndNoLogLine_AndStarsAreWhatIsCounted()
    {
        var secret = SecretsTests.NewSecret();
        var capture = new CapturingLoggerProvider();
        using var dir = new TempDirectory();
        await using (var server = new ServerFactory(dir: dir.Path, configureServices: services =>
        {
            services.AddSingleton<ILoggerProvider>(capture);
            services.Configure<LoggerFilterOptions>(o => o.Rules.Add(new LoggerFilterRule(typeof(CapturingLoggerProvider).FullName, null, LogLevel.Trace, null)));
        }))
        {
            using var admin = server.CreateAdminClient();
            using (var set = await admin.PutAsync(new Uri("/api/projects/main/secrets/HF_TOKEN", UriKind.Relative), ApiClient.Json(new SetSecretRequest(secret))))
            {
                Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
            }

            // Whole, split across two writes a second apart, in a bar redrawn 1,000 times, wrapped over two rows.
            await admin.SubmitAsync(new SubmitRunRequest([Printing], RunName: "printed", Secrets: ["HF_TOKEN"]));
            var printed = await admin.WaitForEndAsync("printed");
            var expected = "whole ***\nsplit *** end\nbar 999 ***\n" + new string('0', 180) + "*** wrapped\n";
            Assert.Equal(RunStatus.Done, printed.Status);
            Assert.Equal(expected, Encoding.UTF8.GetString(await admin.GetLogsTextAsync("printed")));
            Assert.Equal(expected, Encoding.UTF8.GetString([.. (await admin.GetLogsAsync("printed")).Logs.SelectMany(l => l.Message)]));
            Assert.Equal(Encoding.UTF8.GetByteCount(expected), printed.LogBytesHour);
            Assert.Equal(["HF_TOKEN"], printed.Jobs[0].JobSpec.Secrets!);

            // The live region, while the job holds a whole value and half of one on screen.
            await admin.SubmitAsync(new SubmitRunRequest(
                ["""printf 'live %s then %s' "$HF_TOKEN" "$(printf %s "$HF_TOKEN" | cut -c1-20)"; sleep 600"""], RunName: "live", Secrets: ["HF_TOKEN"]));
            await WaitForLiveAsync(admin, "live", "live *** then ***");
            using (await admin.PostAsync(new Uri("/api/runs/live/stop", UriKind.Relative), null))
            {
            }

            await admin.WaitForEndAsync("live");

            // The dropped tail of a truncated job, stored after its marker at the job's end.
            await admin.SubmitAsync(new SubmitRunRequest(
                ["""seq 1 100; i=0; while [ $i -lt 50 ]; do printf 'dropped %s\n' "$HF_TOKEN"; i=$((i+1)); done"""],
                RunName: "dropped", LogQuotaHour: 200, LogQuotaAction: LogQuotaAction.Truncate, Secrets: ["HF_TOKEN"]));
            var dropped = await admin.WaitForEndAsync("dropped");
            var all = Encoding.UTF8.GetString(await admin.GetLogsTextAsync("dropped"));
            Assert.Contains("were dropped", all, StringComparison.Ordinal);
            Assert.EndsWith("dropped ***\n", all, StringComparison.Ordinal);
            Assert.Contains(dropped.LogQuota!.Report!.TopLines, l => l.Line == "dropped ***");

            foreach (var run in new[] { "printed", "live", "dropped" })
            {
                using var details = await admin.GetAsync(new Uri($"/api/runs/{run}", UriKind.Relative));
                Assert.DoesNotContain(secret, await details.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                Assert.DoesNotContain(secret, Encoding.UTF8.GetString(await admin.GetLogsTextAsync(run)), StringComparison.Ordinal);
            }
        }

        var pieces = Enumerable.Range(0, secret.Length - 11).Select(at => secret.Substring(at, 12)).ToList();
        var files = Directory.GetFiles(dir.Path, "server.db*");
        Assert.Contains(files, f => f.EndsWith("server.db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var piece in pieces)
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(piece)) < 0, $"{Path.GetFileName(file)} holds '{piece}' of the secret in clear text");
            }
        }

        var leaks = capture.Entries.Where(e => pieces.Any(p => e.Text.Contains(p, StringComparison.Ordinal))).Select(e => $"{e.Category}: {e.Text}").ToList();
        Assert.True(leaks.Count == 0, $"logged the secret:\n{string.Join('\n', leaks)}");
        Assert.Contains(capture.Entries, e => e.Text.Contains("Secret HF_TOKEN of project main set by admin", StringComparison.Ordinal));
    }

    private static async Task WaitForLiveAsync(HttpClient client, string runName, string wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var logs = await client.GetFromJsonAsync<LogsResponse>(new Uri($"/api/runs/{runName}/logs", UriKind.Relative), LogQuotaJson.Options);
            var live = logs!.Live is null ? "" : Encoding.UTF8.GetString(logs.Live);
            if (live == wanted)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for run {runName}'s live region to read '{wanted}'; it read '{live}'");
            await Task.Delay(100);
        }
    }
}
