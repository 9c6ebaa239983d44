using System.Security.Cryptography;
using System.Text;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// A runner process the tests SIGKILL cannot remove its cgroup (<c>logquota-HASH</c> with a <c>job-ID</c> group per
/// job that was running); its successor on the same directory would, but tests do not start one. So a test's disposal
/// removes the groups of the runner directories it made: every job group killed (<c>cgroup.kill</c>), waited empty and
/// removed, then the runner's group. The path is found as the runner finds it: the group of this process (runners are
/// its children and stay in it) under the cgroup2 mount, plus <c>logquota-</c> and the first 12 hex digits of the
/// SHA-256 of the directory (src/Runner/Isolation/RunnerCgroup.cs).
/// </summary>
internal static class RunnerCgroups
{
    public static void RemoveLeftovers(string runnerDir)
    {
        if (OwnGroup() is not { } own)
        {
            return;
        }

        var group = $"{own}/logquota-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runnerDir)))[..12]}";
        if (!Directory.Exists(group))
        {
            return;
        }

        foreach (var job in Directory.EnumerateDirectories(group, "job-*"))
        {
            TryWrite($"{job}/cgroup.kill", "1");
            var deadline = DateTime.UtcNow.AddSeconds(90);
            while (File.Exists($"{job}/cgroup.procs") && File.ReadAllText($"{job}/cgroup.procs").Length > 0 && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(10);
            }

            TryRemove(job);
        }

        TryRemove(group);
    }

    private static string? OwnGroup()
    {
        var own = File.ReadAllLines("/proc/self/cgroup").FirstOrDefault(l => l.StartsWith("0::", StringComparison.Ordinal))?[3..];
        if (own is null)
        {
            return null;
        }

        foreach (var line in File.ReadAllLines("/proc/self/mountinfo"))
        {
            var dash = line.IndexOf(" - ", StringComparison.Ordinal);
            if (dash < 0 || !line[(dash + 3)..].StartsWith("cgroup2 ", StringComparison.Ordinal))
            {
                continue;
            }

            var fields = line[..dash].Split(' ');
            var (root, mountPoint) = (fields[3], fields[4]);
            if (root == "/" || own == root || own.StartsWith(root + "/", StringComparison.Ordinal))
            {
                return (mountPoint.TrimEnd('/') + (root == "/" ? own : own[root.Length..])).TrimEnd('/');
            }
        }

        return null;
    }

    private static void TryWrite(string path, string text)
    {
        try
        {
            File.WriteAllText(path, text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not ours to kill (another user's runner) or gone meanwhile.
        }
    }

    private static void TryRemove(string path)
    {
        try
        {
            Directory.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Still populated, or gone meanwhile: nothing more a test can do.
        }
    }
}
