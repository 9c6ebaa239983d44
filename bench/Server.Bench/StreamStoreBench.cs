using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace LogQuota.Server.Bench;

/// <summary>
/// The server's cost per streamed line, apart from any real job: a fake runner's stream (<c>GET /api/pull</c>) answers
/// every request at once with one new line of each of its jobs, as a runner of many jobs that each print a line a
/// second does, and the server stores each answer (RunnerStreamStore: its jobs, their budgets, their lines, the cursor, in
/// one transaction). The figure is the server's CPU per stored line over a fixed number of answers, which depends on
/// what the server does per job and per answer, not on how fast the machine is or how busy; a second server dll
/// (<c>--before DLL</c>, another checkout's Release build) takes turns with this checkout's, a fresh server and
/// SQLite file each round, so one command gives the ratio.
/// </summary>
internal static class StreamStoreBench
{
    public static async Task<int> RunAsync(string dir, bool quick, string? before, string? jsonPath, CancellationToken cancellationToken)
    {
        var jobs = quick ? 200 : 500;
        var answers = quick ? 60 : 150;
        var rounds = quick ? 2 : 3;
        Console.WriteLine($"stream store bench ({(quick ? "quick" : "full")}): {jobs} jobs, {answers} answers of one line per job after a warm-up of 20, "
            + $"{rounds} rounds{(before is null ? "" : $", taking turns with {before}")}; temp dir {dir}");
        var modes = before is null ? new[] { "after" } : ["before", "after"];
        var cpus = modes.ToDictionary(m => m, _ => new List<double>());
        for (var round = 0; round < rounds; round++)
        {
            foreach (var mode in round % 2 == 0 ? modes : Enumerable.Reverse(modes))
            {
                var cpu = await RoundAsync(Path.Combine(dir, $"{round}-{mode}"), mode == "before" ? before : null, jobs, answers, cancellationToken);
                cpus[mode].Add(cpu);
                Console.WriteLine($"round {round + 1}, {mode}: server CPU {cpu:0} µs per stored line");
            }
        }

        var after = Median(cpus["after"]);
        double? baseline = before is null ? null : Median(cpus["before"]);
        List<Figure> figures =
        [
            new(
                "server_stream_cpu_per_line",
                $"server CPU per line of a runner's stream, {jobs} jobs an answer",
                Math.Round(after),
                "µs",
                before is null ? null : "the --before server",
                baseline is { } b ? Math.Round(b) : null,
                baseline is { } c ? Math.Round(after / c, 3) : null,
                "<= 125 µs (0.25 core at 2,000 lines/s)",
                after <= 125,
                $"median of {rounds} rounds, {answers} answers each (after: {string.Join(", ", cpus["after"].Select(v => v.ToString("0")))}"
                    + (before is null ? " µs)" : $"; before: {string.Join(", ", cpus["before"].Select(v => v.ToString("0")))} µs)")),
        ];
        Figure.Print(figures);
        if (jsonPath is not null)
        {
            await Figure.WriteAsync(jsonPath, figures);
        }

        return 0;
    }

    private static async Task<double> RoundAsync(string dir, string? dll, int jobs, int answers, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dir);
        await using var runner = await StreamRunner.StartAsync();
        using var server = await ServerProcess.StartAsync(dir, runner.BaseUrl, cancellationToken, serverDll: dll);
        using var client = server.CreateClient();
        for (var i = 0; i < jobs; i++)
        {
            using var body = new StringContent($$"""{"run_name": "line-{{i}}", "commands": ["print"]}""", Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri("api/runs", UriKind.Relative), body, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"Submitting line-{i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }

        await StreamRunner.WaitAsync(() => runner.Jobs == jobs, $"all {jobs} jobs sent to the runner", server, cancellationToken);
        runner.Start();
        await StreamRunner.WaitAsync(() => runner.Answered >= 20, "20 answers stored (the warm-up)", server, cancellationToken);
        var cpuBefore = server.CpuTime();
        var from = runner.Answered;
        await StreamRunner.WaitAsync(() => runner.Answered >= from + answers, $"{answers} more answers", server, cancellationToken);
        var cpu = server.CpuTime() - cpuBefore;
        var lines = (runner.Answered - from) * (long)jobs;

        // Every answer up to the last cursor the server asked after is stored, each line once: checked on one job.
        var expected = runner.Answered;
        var stored = (await client.GetStringAsync(new Uri("api/runs/line-0/logs?format=text", UriKind.Relative), cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (stored.Length < expected || stored.Distinct().Count() != stored.Length)
        {
            throw new InvalidOperationException($"line-0 holds {stored.Length} lines, {stored.Distinct().Count()} of them distinct; the server had stored {expected} answers.");
        }

        return cpu.TotalMicroseconds / lines;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    /// <summary>
    /// A runner whose stream answers each request at once, once started, with the next answer: one line of each job it
    /// was sent. Answer k (the cursor the server asks after is k - 1) is made the same however often it is asked, so a
    /// server that asks again after a failed store gets what it missed.
    /// </summary>
    private sealed class StreamRunner : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly ConcurrentDictionary<Guid, int> _jobs = new();
        private readonly long _epoch = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        private volatile bool _started;
        private int _answered;

        private StreamRunner(WebApplication app) => _app = app;

        public Uri BaseUrl => new(_app.Urls.First() + "/");

        public int Jobs => _jobs.Count;

        /// <summary>The highest cursor the server asked after: every answer up to it is stored.</summary>
        public int Answered => Volatile.Read(ref _answered);

        public static async Task<StreamRunner> StartAsync()
        {
            StreamRunner? runner = null;
            await FakeRunner.StartAppAsync(app => (runner = new StreamRunner(app)).Map(app));
            return runner!;
        }

        public void Start() => _started = true;

        public static async Task WaitAsync(Func<bool> condition, string what, ServerProcess server, CancellationToken cancellationToken)
        {
            var deadline = Stopwatch.StartNew();
            while (!condition())
            {
                if (deadline.Elapsed > TimeSpan.FromMinutes(5))
                {
                    throw new TimeoutException($"Waited 5 minutes for {what}:\n{server.LogTail()}");
                }

                await Task.Delay(20, cancellationToken);
            }
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();

        private void Map(WebApplication app)
        {
            app.MapGet("/api/healthcheck", () => Results.Json(
                new HealthcheckResponse("logquota-runner", "bench", RunnerId: "bench-stream-runner", MaxJobs: 100_000), LogQuotaJson.Options));
            app.MapPost("/api/jobs", async (HttpRequest request) =>
            {
                var body = await JsonSerializer.DeserializeAsync<SubmitBody>(request.Body, LogQuotaJson.Options);
                _jobs.TryAdd(body!.JobId, 0);
                return Results.Ok();
            });
            app.MapPost("/api/jobs/{jobId:guid}/stop", () => Results.Ok());
            app.MapDelete("/api/jobs/{jobId:guid}", () => Results.Ok());
            // A pass pulls a job itself until the stream carries it: nothing new, the stream brings it.
            app.MapGet("/api/jobs/{jobId:guid}/pull", (Guid jobId, long timestamp) => _jobs.ContainsKey(jobId)
                ? Results.Json(new PullResponse([], [], timestamp, false, 0), LogQuotaJson.Options)
                : Results.NotFound());
            app.MapGet("/api/pull", async (string? after, double? wait, HttpResponse response, CancellationToken aborted) =>
            {
                var cursor = int.TryParse(after, out var asked) ? asked : 0;
                InterlockedMax(ref _answered, cursor);
                if (!_started)
                {
                    // Nothing yet: held as a long poll is, briefly, so the server does not spin.
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(200, (wait ?? 0) * 1000)), aborted);
                    await response.WriteAsJsonAsync(new StreamResponse(cursor.ToString(), false, []), LogQuotaJson.Options, aborted);
                    return;
                }

                await response.WriteAsJsonAsync(Answer(cursor + 1), LogQuotaJson.Options, aborted);
            });
        }

        /// <summary>Answer <paramref name="k"/>: line k of every job, at time epoch + k, with the job's quota block as a runner sends it.</summary>
        private StreamResponse Answer(int k)
        {
            var at = _epoch + k;
            var hour = DateTimeOffset.FromUnixTimeMilliseconds(_epoch - _epoch % 3_600_000);
            var pages = _jobs.Keys.Order().Select(id =>
            {
                var line = Encoding.UTF8.GetBytes($"step {k}: loss 0.{k % 1000:000} lr 3e-4 tokens/s 12345\n");
                var quota = new LogQuotaStatus(52_428_800, LogQuotaAction.Kill, (long)k * line.Length, hour, hour.AddHours(1), 0, null, null);
                IReadOnlyList<JobStateEvent> states = k == 1 ? [new JobStateEvent(JobState.Running, at)] : [];
                return new StreamJobPage(id, new PullResponse(states, [new LogEvent(at, line)], at, false, quota.UsedBytesHour, null, quota));
            }).ToList();
            return new StreamResponse(k.ToString(), false, pages);
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
