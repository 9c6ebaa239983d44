using System.Collections.Concurrent;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// A stand-in runner on loopback that speaks the runner's HTTP contract (SPEC §3) and replays a scripted job:
/// the edge of another service, so the server's real Refit client, Polly pipeline and processor are exercised.
/// </summary>
public sealed class FakeRunner : IAsyncDisposable
{
    public const string Token = "fake-runner-token";

    private readonly WebApplication _app;
    private readonly object _gate = new();
    private readonly List<LogEvent> _logs = [];
    private readonly List<JobStateEvent> _states = [];
    private long _clock = 1_700_000_000_000;
    private string? _live;
    private int _failCodePuts;
    private int _conflictDeletes;
    private RunnerCapacity? _resources;
    private long _healthDelayTicks;

    private FakeRunner(WebApplication app) => _app = app;

    public string BaseUrl => _app.Urls.First() + "/";

    /// <summary>Log events per pull answer: small, so the server has to page.</summary>
    public int PageSize { get; set; } = 4;

    /// <summary>The job has ended: once everything is pulled, <c>has_more</c> is false.</summary>
    public bool Ended { get; private set; }

    /// <summary>The live region every pull answers with (SPEC §3 <c>live</c>), as a real runner's screen would show it.</summary>
    public string? Live
    {
        get
        {
            lock (_gate)
            {
                return _live;
            }
        }

        set
        {
            lock (_gate)
            {
                _live = value;
            }
        }
    }

    public ConcurrentQueue<long> PulledFrom { get; } = new();

    public ConcurrentQueue<string> Calls { get; } = new();

    /// <summary>The code archives this runner holds, by name, as their bytes arrived.</summary>
    public ConcurrentDictionary<string, byte[]> Code { get; } = new();

    /// <summary>The bodies of <c>POST /api/jobs</c>.</summary>
    public ConcurrentQueue<SubmitBody> Submitted { get; } = new();

    /// <summary>How many code uploads to answer 503 after reading them whole (a runner that fails mid-way), before one is kept.</summary>
    public int FailCodePuts
    {
        get => Volatile.Read(ref _failCodePuts);
        set => Volatile.Write(ref _failCodePuts, value);
    }

    /// <summary>How many <c>DELETE</c>s of a job to answer 409 (a real runner still letting go of an ended job) before one succeeds.</summary>
    public int ConflictDeletes
    {
        get => Volatile.Read(ref _conflictDeletes);
        set => Volatile.Write(ref _conflictDeletes, value);
    }

    /// <summary>The <c>resources</c> block of this runner's health check (SPEC §9); null leaves it out, as an older runner does.</summary>
    public RunnerCapacity? Resources
    {
        get => Volatile.Read(ref _resources);
        set => Volatile.Write(ref _resources, value);
    }

    /// <summary>How long its health check takes to answer, as a runner's does beside a CPU hog; none by default.</summary>
    public TimeSpan HealthDelay
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _healthDelayTicks));
        set => Interlocked.Exchange(ref _healthDelayTicks, value.Ticks);
    }

    /// <summary>The capacity its health check reports (<c>max_jobs</c>); null leaves it out, as an older runner does. Set
    /// before the server starts: the server reads it when it stores the runner.</summary>
    public int? MaxJobs { get; set; }

    public static async Task<FakeRunner> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(o => LogQuotaJson.Configure(o.SerializerOptions, strict: false));
        var app = builder.Build();
        var runner = new FakeRunner(app);
        runner.Map(app);
        await app.StartAsync();
        return runner;
    }

    public void AddLogs(int count, string prefix)
    {
        lock (_gate)
        {
            for (var i = 1; i <= count; i++)
            {
                _logs.Add(new LogEvent(++_clock, System.Text.Encoding.UTF8.GetBytes($"{prefix}-{i}\n")));
            }
        }
    }

    /// <summary>One log event of exactly these bytes (and these style runs).</summary>
    public void AddLog(byte[] message, LogStyles? styles = null)
    {
        lock (_gate)
        {
            _logs.Add(new LogEvent(++_clock, message, Styles: styles));
        }
    }

    public void AddState(JobState state, TerminationReason? reason = null, int? exitStatus = null)
    {
        lock (_gate)
        {
            _states.Add(new JobStateEvent(state, ++_clock, reason, null, exitStatus));
            Ended |= state.IsFinal();
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    private void Map(WebApplication app)
    {
        app.Use(async (context, next) =>
        {
            Calls.Enqueue($"{context.Request.Method} {context.Request.Path}");
            // The health check is open, as the real runner's is (the server asks it before it sends the token anywhere).
            if (context.Request.Headers.Authorization != $"Bearer {Token}" && context.Request.Path != "/api/healthcheck")
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }

            await next(context);
        });
        app.MapGet("/api/healthcheck", async (CancellationToken aborted) =>
        {
            await Task.Delay(HealthDelay, aborted);
            return new HealthcheckResponse("logquota-runner", "fake", Resources: Resources, MaxJobs: MaxJobs);
        });
        app.MapPost("/api/jobs", (SubmitBody body) =>
        {
            Submitted.Enqueue(body);
            return Results.Ok();
        });
        app.MapMethods("/api/code/{sha256}", [HttpMethods.Head], (string sha256) => Code.ContainsKey(sha256) ? Results.Ok() : Results.NotFound());
        app.MapPut("/api/code/{sha256}", async (string sha256, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            Calls.Enqueue($"PUT code {request.ContentType} {body.Length}");
            if (Interlocked.Decrement(ref _failCodePuts) >= 0)
            {
                return Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
            }

            Code[sha256] = body.ToArray();
            return Results.Ok();
        });
        app.MapPost("/api/jobs/{jobId}/stop", (Guid jobId) => Results.Ok());
        app.MapDelete("/api/jobs/{jobId}", (Guid jobId) => Interlocked.Decrement(ref _conflictDeletes) >= 0
            ? Results.Problem(title: "Conflict", detail: $"Job {jobId} is still running; stop it first.", statusCode: StatusCodes.Status409Conflict)
            : Results.Ok());
        app.MapGet("/api/jobs/{jobId}/pull", (Guid jobId, long timestamp) => Pull(timestamp));
    }

    /// <summary>Stored bytes as a runner counts them (one bucket): every log event up to and including <paramref name="timestamp"/>.</summary>
    private long BytesUpTo(long timestamp) => _logs.Where(l => l.Timestamp <= timestamp).Sum(l => (long)l.Message.Length);

    /// <summary>The <c>log_quota</c> block every runner sends with a pull: the submitted quota, one bucket, nothing dropped.</summary>
    private LogQuotaStatus Quota(long usedBytesHour)
    {
        var spec = Submitted.LastOrDefault()?.JobSpec;
        var bucketStart = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        return new LogQuotaStatus(spec?.LogQuotaHour, spec?.LogQuotaAction ?? LogQuotaAction.Kill, usedBytesHour, bucketStart, bucketStart.AddHours(1), 0, null, null);
    }

    private PullResponse Pull(long timestamp)
    {
        PulledFrom.Enqueue(timestamp);
        lock (_gate)
        {
            var logs = _logs.Where(l => l.Timestamp > timestamp).Take(PageSize).ToList();
            var logsLeft = _logs.Count(l => l.Timestamp > timestamp) > logs.Count;

            // States up to the last log in this answer (all of them once no log is left behind): a final
            // state never overtakes a log event.
            var until = logsLeft ? logs[^1].Timestamp : long.MaxValue;
            var states = _states.Where(s => s.Timestamp > timestamp && s.Timestamp <= until).ToList();
            var last = logs.Select(l => l.Timestamp).Concat(states.Select(s => s.Timestamp)).DefaultIfEmpty(timestamp).Max();
            var live = _live is null ? null : System.Text.Encoding.UTF8.GetBytes(_live);
            return new PullResponse(states, logs, last, logsLeft || !Ended, BytesUpTo(last), live, Quota(BytesUpTo(last)));
        }
    }
}
