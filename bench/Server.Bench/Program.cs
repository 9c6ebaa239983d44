using System.Diagnostics;
using System.Runtime.InteropServices;
using LogQuota.Server.Bench;
using Microsoft.Data.Sqlite;

// Server figures of issue #7: log events pulled from a runner and committed to SQLite, and the text logs
// endpoint, each next to what SQLite alone does with the same rows. Sizes in MB are 10^6 bytes.
var quick = args.Contains("--quick");
var jsonIndex = Array.IndexOf(args, "--json");
var jsonPath = jsonIndex >= 0 && jsonIndex + 1 < args.Length ? args[jsonIndex + 1] : null;
var beforeIndex = Array.IndexOf(args, "--before");
var beforeDll = beforeIndex >= 0 && beforeIndex + 1 < args.Length ? args[beforeIndex + 1] : null;
if (args.Except(["--quick", "--json", jsonPath, "--postgres", "--metrics", "--budget", "--stream", "--before", beforeDll]).Any()
    || (beforeIndex >= 0 && !(args.Contains("--stream") && beforeDll is not null && File.Exists(beforeDll))))
{
    await Console.Error.WriteLineAsync("usage: Server.Bench [--postgres | --metrics | --budget | --stream [--before SERVER_DLL]] [--quick] [--json PATH]");
    return 2;
}

if (args.Contains("--postgres"))
{
    return await PostgresIngest.RunAsync(quick, jsonPath);
}

const double MB = 1_000_000;
var ingestBytes = (long)((quick ? 50 : 200) * MB);
var textBytes = (long)((quick ? 20 : 50) * MB);
const int TextRepeats = 5;
const string IngestRun = "ingest";
const string TextRun = "text-log";

var dir = Directory.CreateTempSubdirectory("logquota-server-bench-").FullName;
using var cancel = new CancellationTokenSource();

// Interrupted (Ctrl+C, or SIGTERM from bench/run), the run stops at its next wait and still kills the server and
// removes the temp dir on its way out.
void Interrupt(PosixSignalContext context)
{
    context.Cancel = true;
    cancel.Cancel();
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupt);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupt);

try
{
    if (args.Contains("--budget"))
    {
        // The project budget's evidence: the page transaction with it vs without it (bench/run --only budget).
        return await BudgetChargeBench.RunAsync(dir, quick, jsonPath, cancel.Token);
    }

    if (args.Contains("--stream"))
    {
        // The server's CPU per line of a runner's stream, against another build's server (bench/RESULTS.md).
        return await StreamStoreBench.RunAsync(dir, quick, beforeDll is null ? null : Path.GetFullPath(beforeDll), jsonPath, cancel.Token);
    }

    if (args.Contains("--metrics"))
    {
        // Issue 19: ingest with metrics on vs off (bench/run --only metrics).
        return await MetricsBench.RunAsync(dir, quick, jsonPath, cancel.Token);
    }

    var textScript = LogScript.Create(textBytes, seed: 1);
    var ingestScript = LogScript.Create(ingestBytes, seed: 2);
    Console.WriteLine($"server bench ({(quick ? "quick" : "full")}): ingest {ingestScript.LogBytes / MB:0} MB in {ingestScript.Events.Count} events, "
        + $"text log {textScript.LogBytes / MB:0} MB; temp dir {dir}");

    await using var runner = await FakeRunner.StartAsync();
    runner.Script(TextRun, textScript);
    runner.Script(IngestRun, ingestScript);

    double ingestRate;
    double textRate;
    long textRssGrowth;
    TimeSpan ingestCpu;
    TimeSpan textCpu;
    string serverDb = Path.Combine(dir, "server", "server.db");
    using (var server = await ServerProcess.StartAsync(dir, runner.BaseUrl, cancel.Token))
    {
        using var client = server.CreateClient();

        // The text run goes first: it is the log the endpoint serves, and it warms the server's JIT up for the ingest figure.
        await SubmitAsync(client, TextRun, cancel.Token);
        await runner.WaitForReleaseAsync(TextRun, TimeSpan.FromMinutes(5), cancel.Token);
        var cpuBefore = server.CpuTime();
        await SubmitAsync(client, IngestRun, cancel.Token);
        var trace = await runner.WaitForReleaseAsync(IngestRun, TimeSpan.FromMinutes(10), cancel.Token);
        ingestCpu = server.CpuTime() - cpuBefore;
        ingestRate = ingestScript.LogBytes / MB / trace.Elapsed.TotalSeconds;
        Console.WriteLine($"ingest: {ingestScript.LogBytes / MB:0} MB in {trace.Pulls} pulls, {trace.Elapsed.TotalSeconds:0.00} s: {ingestRate:0.0} MB/s; "
            + $"server CPU {ingestCpu.TotalMilliseconds / (ingestScript.LogBytes / MB):0.00} ms per MB");

        foreach (var (run, script) in new[] { (TextRun, textScript), (IngestRun, ingestScript) })
        {
            var (rows, bytes) = await RawSqlite.CountAsync(serverDb, run);
            if (rows != script.Events.Count || bytes != script.LogBytes)
            {
                throw new InvalidOperationException($"Run {run}: the server stored {rows} events, {bytes} bytes; the runner had {script.Events.Count}, {script.LogBytes}.");
            }
        }

        var rssBefore = server.Rss();
        var peak = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.Rss());
                await Task.Delay(10, CancellationToken.None);
            }
        }, CancellationToken.None);
        var times = new List<TimeSpan>();
        cpuBefore = server.CpuTime();
        for (var i = 0; i < TextRepeats; i++)
        {
            times.Add(await GetTextAsync(client, TextRun, textScript.LogBytes, cancel.Token));
        }

        textCpu = (server.CpuTime() - cpuBefore) / TextRepeats;
        await sampling.CancelAsync();
        await sampler;
        textRssGrowth = peak - rssBefore;
        textRate = textScript.LogBytes / MB / Median(times).TotalSeconds;
        Console.WriteLine($"GET logs?format=text: {textScript.LogBytes / MB:0} MB, median of {TextRepeats} {Median(times).TotalMilliseconds:0} ms: {textRate:0.0} MB/s; "
            + $"server RSS {rssBefore / MB:0} MB before, +{textRssGrowth / MB:0.0} MB at most while serving; server CPU {textCpu.TotalMilliseconds / (textScript.LogBytes / MB):0.00} ms per MB");
    }

    var readTimes = new List<TimeSpan>();
    var readCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    for (var i = 0; i < TextRepeats; i++)
    {
        var (elapsed, bytes) = await RawSqlite.ReadAsync(serverDb, TextRun);
        if (bytes != textScript.LogBytes)
        {
            throw new InvalidOperationException($"The reader read {bytes} bytes, not {textScript.LogBytes}.");
        }

        readTimes.Add(elapsed);
    }

    var readRate = textScript.LogBytes / MB / Median(readTimes).TotalSeconds;
    var readCpu = (Process.GetCurrentProcess().TotalProcessorTime - readCpuBefore) / TextRepeats;
    var (insertTime, insertCpu) = await RawSqlite.InsertAsync(serverDb, Path.Combine(dir, "baseline.db"), [(TextRun, textScript)], IngestRun, ingestScript);
    var insertRate = ingestScript.LogBytes / MB / insertTime.TotalSeconds;
    SqliteConnection.ClearAllPools();
    Console.WriteLine($"baselines: raw insert {insertRate:0.0} MB/s, CPU {insertCpu.TotalMilliseconds / (ingestScript.LogBytes / MB):0.00} ms per MB; "
        + $"raw read {readRate:0.0} MB/s, CPU {readCpu.TotalMilliseconds / (textScript.LogBytes / MB):0.00} ms per MB");

    var ingestRatio = ingestRate / insertRate;
    var textRatio = textRate / readRate;
    List<Figure> figures =
    [
        new(
            "server_ingest",
            $"server: log events pulled and committed to SQLite, {ingestScript.LogBytes / MB:0} MB",
            Math.Round(ingestRate, 1),
            "MB/s",
            "raw SQLite insert of the same rows (one prepared INSERT, a transaction per pull answer, same schema, pragmas and prior rows)",
            Math.Round(insertRate, 1),
            Math.Round(ingestRatio, 2),
            ">= 100 MB/s and >= 0.5 x baseline",
            ingestRate >= 100 && ingestRatio >= 0.5,
            $"{ingestScript.Events.Count} events of 100 B-4 KiB in {ingestScript.PageEvents.Count} pull answers of <= 4 MiB from a fake runner on loopback; "
                + "first pull to the job's release, which follows the last commit; "
                + $"CPU per MB: server {ingestCpu.TotalMilliseconds / (ingestScript.LogBytes / MB):0.00} ms, raw insert {insertCpu.TotalMilliseconds / (ingestScript.LogBytes / MB):0.00} ms"),
        new(
            "server_logs_text",
            $"server: GET /logs?format=text of a {textScript.LogBytes / MB:0} MB log",
            Math.Round(textRate, 1),
            "MB/s",
            "reading the same SQLite rows with a SqliteDataReader into Stream.Null",
            Math.Round(readRate, 1),
            Math.Round(textRatio, 2),
            ">= 100 MB/s",
            textRate >= 100,
            $"median of {TextRepeats} over HTTP on loopback; server RSS grew by at most {textRssGrowth / MB:0.0} MB while serving; "
                + $"CPU per MB: server {textCpu.TotalMilliseconds / (textScript.LogBytes / MB):0.00} ms, raw read {readCpu.TotalMilliseconds / (textScript.LogBytes / MB):0.00} ms"
                + (quick ? "; quick mode uses a 20 MB log (full: 50 MB)" : "")),
    ];
    Figure.Print(figures);
    if (jsonPath is not null)
    {
        await Figure.WriteAsync(jsonPath, figures);
        Console.WriteLine($"wrote {Path.GetFullPath(jsonPath)}");
    }

    return 0;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    await Console.Error.WriteLineAsync("server bench interrupted; the server is stopped and the temp dir removed");
    return 130;
}
finally
{
    SqliteConnection.ClearAllPools();
    Directory.Delete(dir, recursive: true);
}

static async Task SubmitAsync(HttpClient client, string runName, CancellationToken cancellationToken)
{
    using var body = new StringContent($$"""{"run_name": "{{runName}}", "commands": ["generate-logs"]}""", System.Text.Encoding.UTF8, "application/json");
    using var response = await client.PostAsync(new Uri("api/runs", UriKind.Relative), body, cancellationToken);
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"Submitting {runName}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }
}

static async Task<TimeSpan> GetTextAsync(HttpClient client, string runName, long expected, CancellationToken cancellationToken)
{
    var stopwatch = Stopwatch.StartNew();
    using var response = await client.GetAsync(new Uri($"api/runs/{runName}/logs?format=text", UriKind.Relative), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    response.EnsureSuccessStatusCode();
    await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
    var buffer = new byte[64 * 1024];
    long bytes = 0;
    int read;
    while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
    {
        bytes += read;
    }

    var elapsed = stopwatch.Elapsed;
    return bytes == expected ? elapsed : throw new InvalidOperationException($"The endpoint sent {bytes} bytes, not {expected}.");
}

static TimeSpan Median(List<TimeSpan> times) => times.Order().ElementAt(times.Count / 2);
