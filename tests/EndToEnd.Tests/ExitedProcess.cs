using System.Diagnostics;

namespace LogQuota.EndToEnd.Tests;

/// <summary>A built service started with only the given <c>DSTACK_*</c> settings and run until it exits by itself.</summary>
public sealed record ExitedProcess(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The non-empty lines of stderr.</summary>
    public string[] ErrorLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// Runs <c>LogQuota.{project}.dll</c>; kills it and fails after <paramref name="timeout"/> (default 3 minutes). A
    /// start-up that fails at its last step (a busy port) runs the whole start first, the database's migrations and the
    /// local runner's probes: 11 s at a load average of 25 on 2 cores, and over 60 s once in a CI stress run
    /// beside a CPU hog and other test projects. The deadline only bounds a hang; a healthy exit ends the wait at once.
    /// </summary>
    public static async Task<ExitedProcess> RunAsync(string project, Dictionary<string, string> environment, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(SystemProcesses.Dll(project));
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("DSTACK_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        // A runner that gets as far as making its work directory makes one of the test's own, never the shared default.
        var work = Directory.CreateTempSubdirectory("logquota-exited-work-").FullName;
        info.Environment["DSTACK_RUNNER_WORK_DIR"] = work;
        foreach (var (name, value) in environment)
        {
            info.Environment[name] = value;
        }

        try
        {
            return await RunAsync(info, project, timeout);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static async Task<ExitedProcess> RunAsync(ProcessStartInfo info, string project, TimeSpan? timeout)
    {
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"LogQuota.{project} did not exit: {await stdout}{await stderr}");
        }

        return new ExitedProcess(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Asserts the documented exit code and one stderr line holding every part, with no stack trace anywhere.</summary>
    public string AssertOneLine(int exitCode, params string[] parts)
    {
        Assert.True(exitCode == ExitCode, $"exit {ExitCode}, expected {exitCode}: {Stdout}{Stderr}");
        var line = Assert.Single(ErrorLines);
        foreach (var part in parts)
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }

        // The whole output in the message: which log carried a stack is the finding.
        Assert.False(Stdout.Contains("   at ", StringComparison.Ordinal) || Stderr.Contains("   at ", StringComparison.Ordinal), $"a stack trace was printed:\n{Stdout}{Stderr}");
        Assert.False(Stdout.Contains("Exception", StringComparison.Ordinal) || Stderr.Contains("Exception", StringComparison.Ordinal), $"an exception was printed:\n{Stdout}{Stderr}");
        Assert.False(Stdout.Contains("fail:", StringComparison.Ordinal), $"a failure was logged:\n{Stdout}");
        return line;
    }
}
