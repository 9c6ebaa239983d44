using System.Diagnostics;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>What the isolation tests need from the machine: root, and commands run to completion.</summary>
internal static class Privileged
{
    public static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    /// <summary>The reason a root-only test cannot run here, or null.</summary>
    public static string? WhyNotRoot() => IsRoot ? null : "needs root (CI runs as root): mounts, cgroups and per-job uids";

    /// <summary>Makes a test's directory writable by every uid (0777): a root runner runs each job under a uid of its own.</summary>
    public static void OpenToJobs(string path)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, (UnixFileMode)0b111_111_111);
        }
    }

    /// <summary>The permission bits of <paramref name="path"/> in octal, e.g. "600".</summary>
    public static string ModeOf(string path) =>
        OperatingSystem.IsWindows() ? string.Empty : Convert.ToString((int)File.GetUnixFileMode(path), 8);

    /// <summary>Runs a command; throws with its stderr when it fails.</summary>
    public static string Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {error.Trim()}");
        }

        return output;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuidNative();

    private static uint GetEuid() => GetEuidNative();
}
