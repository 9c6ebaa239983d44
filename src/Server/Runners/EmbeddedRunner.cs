using LogQuota.Runner;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Jobs;

namespace LogQuota.Server.Runners;

/// <summary>
/// The local runner the server hosts in its own process when <c>DSTACK_SERVER_RUNNERS</c> is empty, so one
/// command runs the whole system. It listens on a free loopback port with a random token and lives exactly as
/// long as the server: started before the job processor, stopped after it.
/// </summary>
internal sealed class EmbeddedRunner(RunnerSettings settings, ILogger<EmbeddedRunner> logger) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;
    private Uri? _baseAddress;

    /// <summary>The runner's base URL; known once the server has started.</summary>
    public Uri BaseAddress => _baseAddress ?? throw new InvalidOperationException("The local runner has not started yet.");

    /// <summary>The runner's base URL once it listens, else null.</summary>
    public string? Started => _baseAddress?.ToString();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Build creates the directory under its lock, and names it in one line when it cannot be used.
        _app = RunnerApplication.Build(settings, builder =>
        {
            // The server polls every second; the runner's per-request lines would bury everything else.
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
            builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        });
        await _app.StartAsync(cancellationToken);
        _baseAddress = new Uri(_app.Urls.First().TrimEnd('/') + "/");
        logger.LogInformation("Local runner listening on {RunnerUrl}", _baseAddress);
    }

    /// <summary>
    /// Ends the local runner's jobs because the server is going away, taking no new ones: they are children of this
    /// process, and no one would supervise them after it. Their final states wait on the runner for the last pass.
    /// </summary>
    public async Task StopJobsAsync(string message, CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.Services.GetRequiredService<RunnerShutdown>().StopJobsAsync(message, cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
            _app = null;
        }
    }
}
