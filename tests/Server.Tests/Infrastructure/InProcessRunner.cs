using LogQuota.Runner;
using LogQuota.Runner.Configuration;
using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// A real runner (the runner's own application, its jobs real child processes) in this test process, on a free loopback
/// port with a temp directory of its own; stopped, its jobs ended and its directories removed on dispose.
/// </summary>
public sealed class InProcessRunner : IAsyncDisposable
{
    public const string Token = "in-process-runner-token-0123";

    private readonly WebApplication _app;
    private readonly TempDirectory _dir;

    private InProcessRunner(WebApplication app, TempDirectory dir, ConcurrentQueue<string> requests)
    {
        _app = app;
        _dir = dir;
        Requests = requests;
    }

    /// <summary>The path of every request it received, in order (which calls a server made of it).</summary>
    public ConcurrentQueue<string> Requests { get; }

    /// <summary>Its base URL on 127.0.0.1, with a trailing slash.</summary>
    public string BaseUrl => _app.Urls.First().TrimEnd('/') + "/";

    /// <summary>The port it listens on.</summary>
    public int Port => new Uri(BaseUrl).Port;

    public static async Task<InProcessRunner> StartAsync(int? maxJobs = null, string token = Token)
    {
        var dir = new TempDirectory();
        var settings = new RunnerSettings
        {
            Host = "127.0.0.1",
            Port = 0,
            Dir = dir.Path,
            Token = token,
            // Beside the directory, in the temp directory jobs under other uids can pass through (the directory is 0700).
            WorkDir = WorkDirOf(dir.Path),
            MaxJobs = maxJobs,
            DrainPeriod = TimeSpan.Zero,
        };
        var requests = new ConcurrentQueue<string>();
        var app = RunnerApplication.Build(settings, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Services.AddSingleton<IStartupFilter>(new RequestLog(requests));
        });
        await app.StartAsync();
        return new InProcessRunner(app, dir, requests);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _dir.Dispose();
        if (Directory.Exists(WorkDirOf(_dir.Path)))
        {
            Directory.Delete(WorkDirOf(_dir.Path), recursive: true);
        }
    }

    private static string WorkDirOf(string dir) => dir.TrimEnd('/') + "-work";

    /// <summary>Records each request's path before anything else of the runner sees it.</summary>
    private sealed class RequestLog(ConcurrentQueue<string> requests) : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, then) =>
            {
                requests.Enqueue(context.Request.Path.Value ?? string.Empty);
                return then(context);
            });
            next(app);
        };
    }
}
