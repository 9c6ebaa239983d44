using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Bench;

/// <summary>
/// A runner on loopback that speaks the runner's HTTP contract (SPEC §3) and hands out a prepared
/// <see cref="LogScript"/> per run name. It does no work per pull but one dictionary look-up and a write of
/// bytes serialized up front, so the ingest figure is the server's: Refit, JSON, the processor and SQLite.
/// </summary>
internal sealed class FakeRunner : IAsyncDisposable
{
    public const string Token = "bench-runner-token";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, LogScript> _scripts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, JobTrace> _jobs = new();

    private FakeRunner(WebApplication app) => _app = app;

    public Uri BaseUrl => new(_app.Urls.First() + "/");

    public static async Task<FakeRunner> StartAsync()
    {
        FakeRunner? runner = null;
        await StartAppAsync(app => (runner = new FakeRunner(app)).Map(app));
        return runner!;
    }

    /// <summary>A web app on a free loopback port, mapped by <paramref name="map"/>, that answers only requests with the
    /// runner token but its health check (open, as the real runner's is).</summary>
    internal static async Task<WebApplication> StartAppAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path != "/api/healthcheck" && context.Request.Headers.Authorization != $"Bearer {Token}")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });
        map(app);
        await app.StartAsync();
        return app;
    }

    /// <summary>The script a job of run <paramref name="runName"/> will be served.</summary>
    public void Script(string runName, LogScript script) => _scripts[runName] = script;

    /// <summary>Waits until the server deleted the job of <paramref name="runName"/>, which it does only once every
    /// event is committed (SPEC §6), and returns its trace.</summary>
    public async Task<JobTrace> WaitForReleaseAsync(string runName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var trace = _jobs.Values.FirstOrDefault(j => j.RunName == runName);
            if (trace?.ReleasedAt is not null)
            {
                return trace;
            }

            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"The server did not finish run {runName} within {timeout.TotalSeconds:0} s.");
            }

            await Task.Delay(5, cancellationToken);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private void Map(WebApplication app)
    {
        app.MapPost("/api/jobs", async (HttpRequest request) =>
        {
            var body = await JsonSerializer.DeserializeAsync<SubmitBody>(request.Body, LogQuotaJson.Options);
            if (body is null || !_scripts.TryGetValue(body.Run.RunName, out var script))
            {
                return Results.BadRequest();
            }

            _jobs.TryAdd(body.JobId, new JobTrace(body.Run.RunName, script));
            return Results.Ok();
        });
        app.MapGet("/api/jobs/{jobId:guid}/pull", async (Guid jobId, long timestamp, HttpResponse response) =>
        {
            if (!_jobs.TryGetValue(jobId, out var trace))
            {
                response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            trace.FirstPullAt ??= Stopwatch.GetTimestamp();
            Interlocked.Increment(ref trace.Pulls);
            var page = trace.Script.PageAfter(timestamp);
            response.ContentType = "application/json";
            response.ContentLength = page.Length;
            await response.Body.WriteAsync(page);
        });
        app.MapPost("/api/jobs/{jobId:guid}/stop", () => Results.Ok());
        app.MapDelete("/api/jobs/{jobId:guid}", (Guid jobId) =>
        {
            if (_jobs.TryGetValue(jobId, out var trace))
            {
                trace.ReleasedAt ??= Stopwatch.GetTimestamp();
            }

            return Results.Ok();
        });
    }

    /// <summary>What the server did with one job: when it first pulled, how often, and when it released the job.</summary>
    internal sealed class JobTrace(string runName, LogScript script)
    {
        public int Pulls;

        public string RunName { get; } = runName;

        public LogScript Script { get; } = script;

        public long? FirstPullAt { get; set; }

        public long? ReleasedAt { get; set; }

        public TimeSpan Elapsed => Stopwatch.GetElapsedTime(FirstPullAt!.Value, ReleasedAt!.Value);
    }
}
