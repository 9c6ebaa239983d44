using System.Diagnostics;

namespace LogQuota.Runner.Isolation;

/// <summary>
/// How many GPUs this host has, counted once at start-up for the health check's <c>resources.gpus</c>: the lines
/// <c>nvidia-smi -L</c> prints (<c>GPU 0: ... (UUID: ...)</c>), or 0 where it is not installed or does not answer.
/// </summary>
internal static class GpuCount
{
    /// <summary>nvidia-smi answers in well under a second; a driver that hangs must not hold the runner's start.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public static int Probe()
    {
        var tool = (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, "nvidia-smi"))
            .FirstOrDefault(File.Exists);
        if (tool is null)
        {
            return 0;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(tool, "-L") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true })!;
            process.StandardInput.Close();
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return 0;
            }

            return process.ExitCode == 0 && output.Wait(Timeout) ? Count(output.Result) : 0;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return 0;
        }
    }

    /// <summary>The GPUs in <c>nvidia-smi -L</c>'s output: one line each, starting <c>GPU </c> (MIG devices are indented under theirs).</summary>
    public static int Count(string listing) =>
        listing.Split('\n').Count(l => l.StartsWith("GPU ", StringComparison.Ordinal));
}
