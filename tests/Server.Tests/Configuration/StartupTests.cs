using System.Diagnostics;
using LogQuota.Server.Configuration;
using LogQuota.Server.Tests.Infrastructure;

namespace LogQuota.Server.Tests.Configuration;

/// <summary>The real server process, started with a bad setting, must stop with one line and a non-zero exit.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "lots")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "-1")]
    [InlineData("DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR", "18446744073709551616")]
    [InlineData("DSTACK_SERVER_CODE_MAX_BYTES", "128 parsecs")]
    public async Task BadByteSetting_StopsTheServer_WithOneLine(string variable, string value)
    {
        using var dir = new TempDirectory();
        var (exitCode, stdout, stderr) = await RunServerAsync(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_DIR"] = dir.Path,
            [variable] = value,
        });

        Assert.NotEqual(0, exitCode);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines);
        Assert.Contains(variable, line, StringComparison.Ordinal);
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
