using System.Diagnostics;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// Busy loops in processes of their own that keep every core saturated while a test runs (a machine as busy as CI at
/// its worst); each is killed and waited for on <see cref="Dispose"/>.
/// </summary>
internal sealed class CpuHog : IDisposable
{
    private readonly List<Process> _loops;

    private CpuHog(List<Process> loops) => _loops = loops;

    public static CpuHog Start(int busyLoopsPerCore)
    {
        var loops = new List<Process>();
        try
        {
            for (int i = 0; i < busyLoopsPerCore * Environment.ProcessorCount; i++)
            {
                loops.Add(Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })
                    ?? throw new InvalidOperationException("/bin/sh did not start"));
            }
        }
        catch
        {
            new CpuHog(loops).Dispose();
            throw;
        }

        return new CpuHog(loops);
    }

    /// <summary>True while every busy loop is still running: the load was there all along.</summary>
    public bool AllRunning => _loops.All(loop => !loop.HasExited);

    public void Dispose()
    {
        foreach (var loop in _loops)
        {
            if (!loop.HasExited)
            {
                loop.Kill();
            }

            loop.WaitForExit();
            loop.Dispose();
        }
    }
}
