using System.Diagnostics;
using System.Text;

namespace LogQuota.Runner.Tests.Slurm;

/// <summary>
/// The one-node Slurm cluster <c>.ci/slurm.sh</c> brings up (<c>LOGQUOTA_TEST_SLURM_CONF</c>): its client commands, its
/// controller (stopped and started by the outage test), and the checks every Slurm test ends with.
/// </summary>
internal static class SlurmCluster
{
    public static string? Conf => Environment.GetEnvironmentVariable("LOGQUOTA_TEST_SLURM_CONF") is { Length: > 0 } conf ? conf : null;

    /// <summary>
    /// Skips the test without a cluster; with one, points the Slurm clients (the runner's too) at it and returns the
    /// cluster's test lock, held until disposed: the Slurm tests of every test project take it, one at a time, since each
    /// ends by finding the queue empty and one stops the controller.
    /// </summary>
    public static IDisposable Require()
    {
        Skip.If(Conf is null, "no Slurm cluster: LOGQUOTA_TEST_SLURM_CONF is unset (run under .ci/slurm.sh --)");
        Environment.SetEnvironmentVariable("SLURM_CONF", Conf);
        return TestLock(Conf!);
    }

    /// <summary>An exclusive lock on <c>tests.lock</c> beside the cluster's slurm.conf (flock through FileShare.None), waited for up to 20 minutes: the other project's Slurm tests take a few.</summary>
    public static IDisposable TestLock(string conf)
    {
        var path = Path.Combine(Path.GetDirectoryName(conf)!, "tests.lock");
        var deadline = DateTime.UtcNow.AddMinutes(20);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    public static string Run(string command, params string[] arguments)
    {
        var info = new ProcessStartInfo(command) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{command} {string.Join(' ', arguments)} did not end within 90 s");
        }

        return output.Result + error.Result;
    }

    /// <summary>The Slurm job of LogQuota job <paramref name="jobId"/> as <c>squeue</c> shows it (<c>id|state|reason|time limit</c>), or null.</summary>
    public static string? Find(Guid jobId) =>
        Run("squeue", "-h", "-t", "all", "-n", $"logquota-{jobId:N}", "-o", "%i|%T|%r|%l").Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();

    public static long IdOf(Guid jobId) => long.Parse(Find(jobId)!.Split('|')[0], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Waits (90 s) until Slurm holds no job that has not ended, and no process with the job's marker is left on this node.</summary>
    public static async Task AssertNothingLeftAsync(Guid jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        string queue;
        List<int> processes;
        while (true)
        {
            queue = Run("squeue", "-h", "-o", "%i|%j|%T");
            processes = ProcessesOf(jobId);
            if (queue.Trim().Length == 0 && processes.Count == 0)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for an empty Slurm queue and no process of job {jobId}; queue: '{queue.Trim()}', processes: {string.Join(", ", processes)}");
            await Task.Delay(200);
        }
    }

    /// <summary>Every process on this node whose environment carries the job's marker (srun's, and the step's tasks').</summary>
    public static List<int> ProcessesOf(Guid jobId)
    {
        var marker = Encoding.UTF8.GetBytes($"DSTACK_JOB_ID={jobId}\0");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                if (File.ReadAllBytes(Path.Combine(dir, "environ")).AsSpan().IndexOf(marker) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    private static string Dir => Path.GetDirectoryName(Conf)!;

    /// <summary>Stops slurmctld (SIGTERM, as its service does) and waits until it is gone.</summary>
    public static async Task StopControllerAsync()
    {
        var pid = int.Parse(File.ReadAllText(Path.Combine(Dir, "slurmctld.pid")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        using var process = Process.GetProcessById(pid);
        Run("kill", "-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(deadline.Token);
    }

    /// <summary>Starts slurmctld again from its saved state, and waits until it answers.</summary>
    public static async Task StartControllerAsync()
    {
        Run("slurmctld");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!Run("scontrol", "ping").Contains("is UP", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "waited 90 s for slurmctld to answer again");
            await Task.Delay(500);
        }
    }
}
