using System.Diagnostics;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;

namespace LogQuota.Server.Tests.Configuration;

/// <summary>The real server process, started with a bad setting, must stop with one line and a non-zero exit.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("lots")]
    [InlineData("-1")]
    [InlineData("18446744073709551616")]
    public async Task BadQuota_StopsTheServer_WithOneLine(string value)
    {
        using var dir = new TempDirectory();
        var (exitCode, stdout, stderr) = await RunServerAsync(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_DIR"] = dir.Path,
            ["DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR"] = value,
        });

        Assert.NotEqual(0, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", line, StringComparison.Ordinal);
        Assert.Contains(value, line, StringComparison.Ordinal);
        Assert.DoesNotContain(" at ", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunServerAsync(Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(typeof(ServerSettings).Assembly.Location);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("DSTACK_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
