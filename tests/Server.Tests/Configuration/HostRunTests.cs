using System.Collections.Concurrent;
using LogQuota.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Configuration;

/// <summary>
/// How the server and the runner run their host (<see cref="HostRun.RunUntilStoppedAsync"/>): a start that fails part-way
/// stops what started before disposing it, so that a background service cancelled by the disposal is not logged as a
/// crash with a stack under the one line of the failure (.ci/stress: the local runner's unusable directory).
/// </summary>
public sealed class HostRunTests
{
    [Fact]
    public async Task AStartThatFailsPartWay_StopsWhatStarted_BeforeDisposingIt_AndLogsNoCrash()
    {
        var events = new ConcurrentQueue<string>();
        var logs = new ConcurrentQueue<(LogLevel Level, string Category, string Message)>();
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new RecordingProvider(logs));

        // As the server and the runner log: the host's own report of the failed start is left to Program's one line.
        Runner.ServiceLogging.Configure(builder.Logging);
        builder.Services.AddSingleton(events);
        builder.Services.AddHostedService<Recorder>();
        builder.Services.AddHostedService<Waiter>();
        builder.Services.AddHostedService<Failing>();
        using var host = builder.Build();
        var waiter = host.Services.GetServices<IHostedService>().OfType<Waiter>().Single();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(host.RunUntilStoppedAsync);

        Assert.Equal("cannot start", failure.Message);
        Assert.Equal(["started", "stopped", "disposed"], events.ToArray());

        // The background service ran and ended cancelled by its stopping token, which a stopped host takes as the stop.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiter.ExecuteTask!);
        Assert.DoesNotContain(logs, l => l.Level >= LogLevel.Error);
    }

    private sealed class Recorder(ConcurrentQueue<string> events) : IHostedService, IDisposable
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            events.Enqueue("started");
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            events.Enqueue("stopped");
            return Task.CompletedTask;
        }

        public void Dispose() => events.Enqueue("disposed");
    }

    /// <summary>Waits until stopped, and ends cancelled when it is: what a host that was not stopped logs as a crash.</summary>
    private sealed class Waiter : BackgroundService
    {
        public TaskCompletionSource Running { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            Running.TrySetResult();
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
    }

    private sealed class Failing(IServiceProvider services) : IHostedService
    {
        public async Task StartAsync(CancellationToken cancellationToken)
        {
            // The waiter is running, as the server's background services are when its listening fails.
            await services.GetServices<IHostedService>().OfType<Waiter>().Single().Running.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
            throw new InvalidOperationException("cannot start");
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class RecordingProvider(ConcurrentQueue<(LogLevel, string, string)> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Recording(logs, categoryName);

        public void Dispose()
        {
        }

        private sealed class Recording(ConcurrentQueue<(LogLevel, string, string)> logs, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                logs.Enqueue((logLevel, category, formatter(state, exception)));
        }
    }
}
