using System.Net;

namespace LogQuota.EndToEnd.Tests.Metrics;

/// <summary>The metrics settings of both real binaries: a bad one is one start-up line and the documented exit code; off means no <c>/metrics</c>.</summary>
public sealed class MetricsSettingsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-metrics-settings-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Theory]
    [InlineData("DSTACK_SERVER_METRICS_TOKEN", "short-token")]
    [InlineData("DSTACK_SERVER_METRICS_TOKEN", "sixteen chars with spaces")]
    [InlineData("DSTACK_SERVER_METRICS", "yes")]
    public async Task Server_WithABadMetricsSetting_ExitsOne_WithOneLineNamingIt(string name, string value)
    {
        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = Path.Combine(_dir.FullName, "server"),
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            [name] = value,
        });

        var line = server.AssertOneLine(1, name);
        Assert.Equal("", server.Stdout);
        if (name.EndsWith("TOKEN", StringComparison.Ordinal))
        {
            Assert.DoesNotContain(value, line, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains(value, line, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("DSTACK_RUNNER_METRICS_TOKEN", "short-token")]
    [InlineData("DSTACK_RUNNER_METRICS", "1")]
    public async Task Runner_WithABadMetricsSetting_ExitsTwo_WithOneLineNamingIt(string name, string value)
    {
        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = Path.Combine(_dir.FullName, "runner"),
            ["DSTACK_RUNNER_PORT"] = $"{SystemProcesses.FreePort()}",
            [name] = value,
        });

        var line = runner.AssertOneLine(2, name);
        Assert.DoesNotContain(name.EndsWith("TOKEN", StringComparison.Ordinal) ? value : "\0", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MetricsOff_ServesNoMetrics_OnEitherService()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1,
            serverSettings: new() { ["DSTACK_SERVER_METRICS"] = "off" },
            runnerSettings: new() { ["DSTACK_RUNNER_METRICS"] = "off" });

        using var server = await system.Server.GetAsync(new Uri("/metrics", UriKind.Relative));
        using var runner = await system.RunnerClient(0).GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.NotFound, server.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, runner.StatusCode);
    }
}
