using System.Globalization;
using LogQuota.Runner.Isolation;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// DSTACK_RUNNER_JOB_PIDS_MAX bounds a job's processes in every mode that gives it a uid of its own, through
/// RLIMIT_NPROC of that uid (and pids.max too where the pids controller is offered): a fork bomb never has more
/// processes alive than the limit, and its kill leaves none. Counted in /proc by uid while the bomb runs.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class ProcessLimitTests
{
    private const int Limit = 50;

    [SkippableTheory]
    [InlineData(IsolationKill.Cgroup)]
    [InlineData(IsolationKill.PidNamespace)]
    [InlineData(IsolationKill.ProcessScan)]
    public async Task ForkBomb_NeverExceedsThePidsLimit_AndIsKilledWhole(IsolationKill mode)
    {
        var notRoot = Privileged.WhyNotRoot();
        Skip.If(notRoot is not null, notRoot);
        var work = Directory.CreateTempSubdirectory("logquota-nproc-").FullName;
        try
        {
            Privileged.OpenToJobs(work);
            await using var runner = await RunnerHost.StartAsync(killModeLimit: mode, jobPidsMax: Limit);
            var isolation = runner.Services.GetRequiredService<RunnerIsolation>();
            Skip.If(isolation.Info != new IsolationInfo(mode, IsolationUsers.PerJob), $"this machine offers no {mode} mode with per-job uids: {isolation.Description}");

            var jobId = Guid.NewGuid();
            // A bomb whose every process forks two more and then spins (no process ever leaves its slot, so the limit stays
            // reached until the kill), and a job that waits, with shell builtins alone, until the test has seen the bomb
            // (the file "seen"), then writes past its quota, also with builtins: no step of the job needs a process slot
            // once the bomb holds them. The first version slept 2 s and ran `yes`; under load that `sleep` found no slot,
            // failed at once, and the job ended before one sample saw the bomb (peak 0, .ci/stress --ci).
            var command = "ulimit -p > limit && id -u > uid && { (b() { b & b & while :; do :; done; }; b) 2>bomb-errors & until [ -e seen ]; do :; done; while :; do echo y; done; }";
            await runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "bomb"),
                new JobSpec([command], WorkingDir: work, LogQuotaHour: 2000, Tty: false)), CancellationToken.None);

            using var sampling = new CancellationTokenSource();
            var peak = Task.Run(() => PeakProcessesOf(work, sampling.Token));
            JobResult result;
            try
            {
                result = await runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(120));
            }
            finally
            {
                await sampling.CancelAsync();
            }

            var uid = uint.Parse(File.ReadAllText(Path.Combine(work, "uid")).Trim(), CultureInfo.InvariantCulture);
            Assert.Equal(Limit.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(work, "limit")).Trim());
            // The samples are a lower bound of the true peak (a bomb's processes live for microseconds); without the
            // limit the bomb has hundreds alive within the first second. The kernel's refusals are the bound at work.
            var most = await peak;
            Assert.InRange(most, 2, Limit);
            Assert.Contains("fork", File.ReadAllText(Path.Combine(work, "bomb-errors")), StringComparison.OrdinalIgnoreCase);
            Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
            Assert.Empty(JobProcesses.Scan($"never-{Guid.NewGuid():N}", uid));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The most processes (threads count too, as for RLIMIT_NPROC) of the job's uid alive at one sample. Once a
    /// sample has seen the bomb (two processes or more) and the kernel has refused it a fork (its errors say so), or after
    /// 60 s, creates "seen", which lets the job go on.</summary>
    private static async Task<int> PeakProcessesOf(string work, CancellationToken cancel)
    {
        var uidFile = Path.Combine(work, "uid");
        var seen = Path.Combine(work, "seen");
        var errors = Path.Combine(work, "bomb-errors");
        var giveUp = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        var peak = 0;
        while (!cancel.IsCancellationRequested)
        {
            if (File.Exists(uidFile) && uint.TryParse(File.ReadAllText(uidFile).Trim(), CultureInfo.InvariantCulture, out var uid))
            {
                peak = Math.Max(peak, JobProcesses.Scan($"never-{uid}", uid).Count);
            }

            if (!File.Exists(seen) && ((peak >= 2 && Refused(errors)) || DateTime.UtcNow > giveUp))
            {
                await File.WriteAllTextAsync(seen, "", CancellationToken.None);
            }

            await Task.Delay(10, CancellationToken.None);
        }

        return peak;
    }

    private static bool Refused(string errors)
    {
        try
        {
            return File.ReadAllText(errors).Contains("fork", StringComparison.OrdinalIgnoreCase);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
