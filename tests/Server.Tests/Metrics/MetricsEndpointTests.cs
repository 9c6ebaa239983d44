using System.Globalization;
using System.Net;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Metrics;

/// <summary><c>GET /metrics</c> of servers in one process: each exports only its own instruments (OpenTelemetry listens by name process-wide).</summary>
public sealed class MetricsEndpointTests
{
    [Fact]
    public async Task TwoServersInOneProcess_EachExportsOnlyWhatItStored_WithItsLocalRunnersMetrics()
    {
        await using var busy = new ServerFactory();
        await using var idle = new ServerFactory();
        using var busyClient = busy.CreateAdminClient();
        using var idleClient = idle.CreateAdminClient();

        await busyClient.SubmitAsync(new SubmitRunRequest(["echo hello metrics"], RunName: "busy"));
        var run = await busyClient.WaitForEndAsync("busy");
        Assert.Equal(RunStatus.Done, run.Status);
        var stored = (await busyClient.GetLogsTextAsync("busy")).Length;

        var busyText = await ScrapeAsync(busyClient);
        var idleText = await ScrapeAsync(idleClient);

        Assert.Equal(stored, Value(busyText, "logquota_log_bytes_stored_total"));
        Assert.Equal(stored, Value(busyText, "logquota_runner_log_bytes_stored_total", "mode=\"tty\""));
        Assert.Equal(0, Value(idleText, "logquota_log_bytes_stored_total"));
        Assert.Equal(0, Value(idleText, "logquota_runner_log_bytes_stored_total", "mode=\"tty\""));
        Assert.Equal(1, Value(busyText, "logquota_runs", "status=\"done\""));
        Assert.Equal(0, Value(idleText, "logquota_runs", "status=\"done\""));
        const string submitted = "http_request_method=\"POST\",http_response_status_code=\"201\"";
        Assert.Contains(submitted, busyText, StringComparison.Ordinal);
        Assert.DoesNotContain(submitted, idleText, StringComparison.Ordinal);

        // Its submit, the job's states and its logs were each written after a turn at SQLite's write lock.
        Assert.True(Value(busyText, "logquota_sqlite_write_wait_seconds_count") >= 3, busyText);
    }

    [Fact]
    public async Task WithoutTheToken_Is401Problem_AndTheMetricsTokenReplacesTheAdminToken()
    {
        const string metricsToken = "test-metrics-token-0123456789";
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_METRICS_TOKEN"] = metricsToken });
        using var admin = server.CreateAdminClient();
        using var anonymous = server.CreateClient();
        using var scraper = server.CreateClient();
        scraper.DefaultRequestHeaders.Authorization = new("Bearer", metricsToken);

        using var withAdmin = await admin.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var without = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var allowed = await scraper.GetAsync(new Uri("/metrics", UriKind.Relative));

        await ApiClient.AssertProblemAsync(withAdmin, HttpStatusCode.Unauthorized);
        await ApiClient.AssertProblemAsync(without, HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.StartsWith("text/plain", allowed.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    /// <summary>The value of the one series named <paramref name="name"/> whose labels hold <paramref name="label"/>.</summary>
    private static double Value(string exposition, string name, string label = "") =>
        double.Parse(Assert.Single(exposition.Split('\n'), line =>
                line.StartsWith(name + "{", StringComparison.Ordinal) && line.Contains(label, StringComparison.Ordinal))
            .Split(' ')[^1], CultureInfo.InvariantCulture);
}
