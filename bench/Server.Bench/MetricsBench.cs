using System.Net.Http.Headers;

namespace LogQuota.Server.Bench;

/// <summary>
/// Issue 19's figure: the server's ingest (pull + commit to SQLite) with metrics on and scraped every second, as
/// Prometheus would, against the same server with <c>DSTACK_SERVER_METRICS=off</c>, in the same run; and on but never
/// scraped, which separates the instruments' cost from the scrapes'. The modes take turns, a fresh server and database
/// each time, and each one's median is taken, so that load from elsewhere on the machine falls on all of them.
/// </summary>
internal static class MetricsBench
{
    private const double MB = 1_000_000;

    /// <param name="dir">A temp directory the caller removes.</param>
    public static async Task<int> RunAsync(string dir, bool quick, string? jsonPath, CancellationToken cancellationToken)
    {
        var bytes = (long)((quick ? 100 : 200) * MB);
        var rounds = quick ? 3 : 6;
        var warmUp = LogScript.Create((long)(10 * MB), seed: 3);
        var ingest = LogScript.Create(bytes, seed: 4);
        Console.WriteLine($"metrics bench ({(quick ? "quick" : "full")}): ingest {ingest.LogBytes / MB:0} MB, {rounds} rounds of metrics on and scraped, on and never scraped, off; temp dir {dir}");
        await using var runner = await FakeRunner.StartAsync();
        // Three servers a round, in a rotating order: metrics on and scraped every second, on and never scraped (the cost
        // of the instruments alone), off.
        string[] modes = ["scraped", "unscraped", "off"];
        var rates = modes.ToDictionary(m => m, _ => new List<double>());
        var cpus = modes.ToDictionary(m => m, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var mode in modes.Skip(round % 3).Concat(modes.Take(round % 3)))
            {
                var (rate, cpu) = await IngestAsync(runner, Path.Combine(dir, $"{round}-{mode}"), mode != "off", mode == "scraped", warmUp, ingest, cancellationToken);
                rates[mode].Add(rate);
                cpus[mode].Add(cpu);
                Console.WriteLine($"round {round + 1}, metrics {mode}: {rate:0.0} MB/s, server CPU {cpu:0.00} ms per MB");
            }
        }

        var on = rates["scraped"];
        var off = rates["off"];

        var ratio = Median(on) / Median(off);
        List<Figure> figures =
        [
            new(
                "server_ingest_metrics",
                $"server ingest, {ingest.LogBytes / MB:0} MB, metrics on and scraped every 1 s",
                Math.Round(Median(on), 1),
                "MB/s",
                "the same server with DSTACK_SERVER_METRICS=off",
                Math.Round(Median(off), 1),
                Math.Round(ratio, 3),
                ">= 0.95 x baseline",
                ratio >= 0.95,
                $"median of {rounds} rounds in rotating order (on, scraped: {string.Join(", ", on.Select(r => r.ToString("0.0")))}; "
                    + $"off: {string.Join(", ", off.Select(r => r.ToString("0.0")))} MB/s); a fresh server and SQLite file per round, warmed with 10 MB while scraped; "
                    + $"on but never scraped: {Median(rates["unscraped"]):0.0} MB/s ({string.Join(", ", rates["unscraped"].Select(r => r.ToString("0.0")))}); "
                    + $"server CPU per MB, median: scraped {Median(cpus["scraped"]):0.00} ms, never scraped {Median(cpus["unscraped"]):0.00} ms, off {Median(cpus["off"]):0.00} ms"),
        ];
        Figure.Print(figures);
        if (jsonPath is not null)
        {
            await Figure.WriteAsync(jsonPath, figures);
            Console.WriteLine($"wrote {Path.GetFullPath(jsonPath)}");
        }

        return 0;
    }

    private static async Task<(double Rate, double CpuPerMb)> IngestAsync(FakeRunner runner, string dir, bool metrics, bool scraped, LogScript warmUp, LogScript ingest, CancellationToken cancellationToken)
    {
        var id = Path.GetFileName(dir);
        runner.Script($"warm-{id}", warmUp);
        runner.Script($"ingest-{id}", ingest);
        Directory.CreateDirectory(dir);
        using var server = await ServerProcess.StartAsync(dir, runner.BaseUrl, cancellationToken,
            new Dictionary<string, string> { ["DSTACK_SERVER_METRICS"] = metrics ? "on" : "off" });
        using var client = server.CreateClient();

        // Scraped from its start, as a monitored server is: the exporter's first answer (its code compiled, its
        // buffers grown) falls in the warm-up, as the first pulls and commits do.
        using var scraping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var scraper = scraped ? ScrapeAsync(server, scraping.Token) : Task.FromResult(0);
        await SubmitAsync(client, $"warm-{id}", cancellationToken);
        await runner.WaitForReleaseAsync($"warm-{id}", TimeSpan.FromMinutes(5), cancellationToken);
        var cpuBefore = server.CpuTime();
        await SubmitAsync(client, $"ingest-{id}", cancellationToken);
        var trace = await runner.WaitForReleaseAsync($"ingest-{id}", TimeSpan.FromMinutes(10), cancellationToken);
        var cpu = server.CpuTime() - cpuBefore;
        await scraping.CancelAsync();
        var scrapes = await scraper;
        if (scraped && scrapes == 0)
        {
            throw new InvalidOperationException("/metrics was never scraped during the ingest.");
        }

        return (ingest.LogBytes / MB / trace.Elapsed.TotalSeconds, cpu.TotalMilliseconds / (ingest.LogBytes / MB));
    }

    /// <summary>GET /metrics once a second until cancelled, as Prometheus would; the number of answers.</summary>
    private static async Task<int> ScrapeAsync(ServerProcess server, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = server.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerProcess.AdminToken);
        var scrapes = 0;
        try
        {
            while (true)
            {
                string text;
                try
                {
                    text = await http.GetStringAsync(new Uri("metrics", UriKind.Relative), cancellationToken);
                }
                catch (TaskCanceledException e) when (e.InnerException is TimeoutException && !cancellationToken.IsCancellationRequested)
                {
                    // Prometheus's default scrape timeout: a scrape that takes longer (a machine loaded far past its
                    // cores) is a missed scrape, as it would be for Prometheus, and the next one follows.
                    continue;
                }

                if (!text.Contains("logquota_log_bytes_stored_total", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("/metrics does not answer the server's metrics.");
                }

                scrapes++;
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return scrapes;
        }
    }

    private static async Task SubmitAsync(HttpClient client, string runName, CancellationToken cancellationToken)
    {
        using var body = new StringContent($$"""{"run_name": "{{runName}}", "commands": ["generate-logs"]}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("api/runs", UriKind.Relative), body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Submitting {runName}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
