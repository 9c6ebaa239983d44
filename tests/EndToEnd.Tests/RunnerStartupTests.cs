using System.Diagnostics;

namespace LogQuota.EndToEnd.Tests;

/// <summary>SPEC §3: a runner asked to listen beyond loopback without a token refuses to start.</summary>
public sealed class RunnerStartupTests
{
    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("::")]
    public async Task RunnerProcess_OnANonLoopbackHost_WithoutAToken_ExitsNonZero_WithOneLineNamingTheToken(string host)
    {
        var dir = Path.Combine(Path.GetTempPath(), "logquota-refused-" + Guid.NewGuid().ToString("N"));
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(Path.Combine(SystemProcesses.RepositoryRoot, "src", "Runner", "bin", "Debug", "net10.0", "LogQuota.Runner.dll"));
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("DSTACK_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DSTACK_RUNNER_HOST"] = host;
        info.Environment["DSTACK_RUNNER_PORT"] = "0";
        info.Environment["DSTACK_RUNNER_DIR"] = dir;

        using var process = Process.Start(info)!;
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

        Assert.NotEqual(0, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("DSTACK_RUNNER_TOKEN is required", line, StringComparison.Ordinal);
        Assert.Equal("", await stdout);
        Assert.False(Directory.Exists(dir));
    }
}
