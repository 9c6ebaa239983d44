using System.Diagnostics;

namespace LogQuota.EndToEnd.Tests;

/// <summary>The end of a test's system of processes (<see cref="SystemProcesses"/>, <c>Replicas.ReplicaCluster</c>).</summary>
internal static class HostCleanup
{
    /// <summary>
    /// Kills <paramref name="processes"/> last-started first (servers stop pulling before their runners go), each with
    /// its process tree, waiting up to <paramref name="wait"/> for each; then removes the runner cgroups and the
    /// directories in <paramref name="dirs"/>, whatever is left of them.
    /// </summary>
    public static async Task KillAndRemoveAsync(IEnumerable<Process> processes, IEnumerable<string> dirs, TimeSpan wait)
    {
        foreach (var process in processes.Reverse())
        {
            try
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                await process.WaitForExitAsync().WaitAsync(wait);
            }
            catch (InvalidOperationException)
            {
            }
            catch (TimeoutException)
            {
            }

            process.Dispose();
        }

        foreach (var dir in dirs)
        {
            RunnerCgroups.RemoveLeftovers(dir);
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }
}
