using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// Every ILogger call of the server, at Trace and past the filters the server sets in code, structured values included:
/// through a whole job lifecycle and refused logins, no token is logged.
/// </summary>
public sealed class TokenLoggingTests
{
    private const string RunnerToken = "runner-tok-5e1d3c7b9a2f4e60dd";
    private const string WrongToken = "wrong-tok-1f3e5d7c9b2a4f60ee";

    [Fact]
    public async Task NoTokenIsEverLogged_AtAnyLevel()
    {
        var capture = new CapturingLoggerProvider();
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_RUNNER_TOKEN"] = RunnerToken },
            configureServices: services =>
            {
                services.AddSingleton<ILoggerProvider>(capture);

                // A rule for this provider beats the server's category rules, whatever their order.
                services.Configure<LoggerFilterOptions>(o => o.Rules.Add(new LoggerFilterRule(typeof(CapturingLoggerProvider).FullName, null, LogLevel.Trace, null)));
            });
        using var admin = server.CreateAdminClient();

        var gates = new LogGates();
        await admin.SubmitAsync(new SubmitRunRequest(gates.Commands("one", "two"), RunName: "logged"));
        await gates.RunThroughAsync(admin, "logged", "one", "two");
        Assert.Equal(RunStatus.Done, (await admin.GetRunAsync("logged")).Status);
        var page = await admin.GetLogsAsync("logged", "?limit=1");
        Assert.NotNull(page.NextToken);
        await admin.GetLogsAsync("logged", $"?limit=1&next_token={page.NextToken}");
        await admin.GetLogsTextAsync("logged");
        await admin.SubmitAsync(new SubmitRunRequest(["sleep 60"], RunName: "stopped"));
        await admin.WaitForAsync("stopped", r => r.Status == RunStatus.Running);
        using (await admin.PostAsync(new Uri("/api/runs/stopped/stop", UriKind.Relative), null))
        {
        }

        await admin.WaitForEndAsync("stopped");
        using (await admin.DeleteAsync(new Uri("/api/runs/logged", UriKind.Relative)))
        {
        }

        using var stranger = server.CreateClient();
        foreach (var authorization in new[] { $"Bearer {WrongToken}", WrongToken, $"Bearer {ServerFactory.AdminToken}x", $"Bearer {RunnerToken}" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
            using var response = await stranger.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        var logged = capture.Entries.ToList();
        // Debug entries of the categories the server quietens were captured; the runner clients log no headers
        // (IHttpClientFactory's request logging hands header values unredacted to structured sinks).
        Assert.Contains(logged, e => e.Level == LogLevel.Debug && e.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.DoesNotContain(logged, e => e.Text.Contains("Request Headers", StringComparison.Ordinal));
        Assert.Contains(logged, e => e.Text.Contains("logged", StringComparison.Ordinal));
        foreach (var token in new[] { ServerFactory.AdminToken, RunnerToken, WrongToken })
        {
            var leaks = logged.Where(e => e.Text.Contains(token, StringComparison.Ordinal)).Select(e => $"{e.Category}: {e.Text}").ToList();
            Assert.True(leaks.Count == 0, $"logged a token:\n{string.Join('\n', leaks)}");
        }
    }
}

/// <summary>Keeps every log entry: the formatted message, every structured value and the exception.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new StringBuilder(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    // Header values arrive as string arrays: their items are what would leak.
                    text.Append(' ').Append(key).Append('=').Append(value is System.Collections.IEnumerable items and not string
                        ? string.Join(',', items.Cast<object?>())
                        : value);
                }
            }

            text.Append(' ').Append(exception);
            owner.Entries.Enqueue((category, logLevel, text.ToString()));
        }
    }
}
