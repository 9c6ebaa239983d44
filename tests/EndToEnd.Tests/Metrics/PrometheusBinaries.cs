using System.Diagnostics;

namespace LogQuota.EndToEnd.Tests.Metrics;

/// <summary>Debian's <c>prometheus</c> package (<c>.ci/prometheus.sh</c> installs it): found on PATH, or the reason it is not.</summary>
internal static class PrometheusBinaries
{
    public static string? Prometheus => Find("prometheus");

    public static string? Promtool => Find("promtool");

    /// <summary>Skips the calling test, with the reason, where <paramref name="binary"/> is missing.</summary>
    public static string Require(string? binary, string name)
    {
        Skip.If(binary is null, $"{name} is not installed (Debian's prometheus package; .ci/prometheus.sh installs it).");
        return binary!;
    }

    /// <summary>The shipped <c>deploy/prometheus</c> directory.</summary>
    public static string DeployDirectory => Path.Combine(SystemProcesses.RepositoryRoot, "deploy", "prometheus");

    /// <summary>Runs <paramref name="file"/> with <paramref name="args"/> to its end (at most a minute); its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
