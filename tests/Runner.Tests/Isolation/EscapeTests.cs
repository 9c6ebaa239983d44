using System.Globalization;
using System.Net.Http.Json;
using LogQuota.Runner.Isolation;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// Issue 14's escapes against a real runner in one isolation mode: after a quota kill and after a stop, no process the
/// job ever had is alive (checked by pid, by command line and by uid in /proc, not by the runner's marker), and in
/// cgroup mode its group is empty. Runs as root (CI does); each mode skips with the reason where the machine lacks it.
/// </summary>
public abstract class EscapeTests(IsolationKill mode, bool perJobUids) : IAsyncLifetime
{
    private readonly string _work = Directory.CreateTempSubdirectory("logquota-escape-").FullName;
    private readonly string _tag = $"lqescape{Guid.NewGuid():N}";
    private RunnerHost? _runner;
    private string? _whyNot;

    public async Task InitializeAsync()
    {
        Privileged.OpenToJobs(_work);
        await File.WriteAllTextAsync(Path.Combine(_work, "escape.py"), JobProcesses.EscapeScript);
        _whyNot = Privileged.WhyNotRoot();
        if (_whyNot is null)
        {
            _runner = await RunnerHost.StartAsync(killModeLimit: mode, perJobUids: perJobUids);
            var isolation = _runner.Services.GetRequiredService<RunnerIsolation>();
            if (isolation.Info.Kill != mode)
            {
                _whyNot = $"this machine offers no {mode} isolation: {isolation.Description}";
            }
        }
    }

    public async Task DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }

    [SkippableFact]
    public async Task HealthCheckAndStartUpLine_NameTheModeInForce()
    {
        Skip.If(_whyNot is not null, _whyNot);
        var health = await _runner!.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options);
        Assert.Equal(new IsolationInfo(mode, perJobUids ? IsolationUsers.PerJob : IsolationUsers.Shared), health!.Isolation);

        // The start-up log line's text: the mode, why, and the users.
        var description = _runner.Services.GetRequiredService<RunnerIsolation>().Description;
        Assert.StartsWith($"kill: {System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(mode.ToString())} (", description, StringComparison.Ordinal);
        Assert.Contains(perJobUids ? "users: per_job (uids 200000-299999)" : "users: shared", description, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task QuotaKill_LeavesNoProcessTheJobEverHad()
    {
        Skip.If(_whyNot is not null, _whyNot);
        var jobId = Guid.NewGuid();
        var command = $"id -u > uid\n{JobProcesses.EscapesCommand(_work, _tag)}\nyes";
        await Submit(jobId, new JobSpec([command], WorkingDir: _work, LogQuotaHour: 1000, Tty: false));
        var result = await _runner!.PullToEndAsync(jobId, TimeSpan.FromSeconds(60));

        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        AssertNothingLeft(jobId);
    }

    [SkippableFact]
    public async Task Stop_LeavesNoProcessTheJobEverHad()
    {
        Skip.If(_whyNot is not null, _whyNot);
        var jobId = Guid.NewGuid();
        var command = $"id -u > uid\n{JobProcesses.EscapesCommand(_work, _tag)}\nsleep 300";
        await Submit(jobId, new JobSpec([command], WorkingDir: _work, Tty: true));
        await WaitForEscapesAsync();

        await _runner!.Api.StopAsync(jobId, new StopBody(), CancellationToken.None);
        var result = await _runner.PullToEndAsync(jobId, TimeSpan.FromSeconds(60));

        Assert.Equal(JobState.Terminated, result.Final.State);
        AssertNothingLeft(jobId);
    }

    [SkippableFact]
    public async Task ForkBomb_IsKilledWhole_AtTheQuota()
    {
        Skip.If(_whyNot is not null, _whyNot);
        // The bomb is bounded by RLIMIT_NPROC, which counts the processes of a uid and which root ignores, so it only
        // runs under a uid of its own: the job's, or, where jobs share the runner's uid (root here), one the job
        // switches to itself, as a hostile job under a root runner may. The kill must reach it either way.
        var jobId = Guid.NewGuid();
        var bombUid = perJobUids ? (uint?)null : (uint)(400_000 + Random.Shared.Next(100_000));
        // dash spells RLIMIT_NPROC -p; the bomb does not start unless the limit is really in force.
        const string bomb = "ulimit -p 200 && [ \"$(ulimit -p)\" = 200 ] && : > bomb-started && (b() { b | b & }; b) 2>/dev/null";
        var start = bombUid is { } u ? $"setpriv --reuid={u} --regid={u} --clear-groups sh -c '{bomb}'" : $"{{ {bomb}; }}";
        var command = $"id -u > uid && cut -d' ' -f4 /proc/self/stat >> pids && {{ {start} & sleep 1; yes; }}";
        try
        {
            await Submit(jobId, new JobSpec([command], WorkingDir: _work, LogQuotaHour: 2000, Tty: false));
            var result = await _runner!.PullToEndAsync(jobId, TimeSpan.FromSeconds(60));

            Assert.True(File.Exists(Path.Combine(_work, "bomb-started")), "the fork bomb started under its process limit");
            Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
            AssertNothingLeft(jobId);
            if (bombUid is { } uid)
            {
                Assert.Empty(JobProcesses.Scan(_tag, uid));
            }
        }
        finally
        {
            if (bombUid is { } uid)
            {
                // Whatever the outcome, nothing of the bomb's uid may outlive the test on a shared machine.
                using var sweep = System.Diagnostics.Process.Start("setpriv",
                    ["--reuid", $"{uid}", "--regid", $"{uid}", "--clear-groups", "/bin/kill", "-KILL", "-1"]);
                await sweep.WaitForExitAsync();
            }
        }
    }

    private Task Submit(Guid jobId, JobSpec spec) =>
        _runner!.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "escape"), spec), CancellationToken.None);

    private async Task WaitForEscapesAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!File.Exists(Path.Combine(_work, "pids")) || JobProcesses.ReadPids(_work).Count < JobProcesses.EscapeCount)
        {
            Assert.True(DateTime.UtcNow < deadline, "the job's escapes never all started");
            await Task.Delay(20);
        }
    }

    private void AssertNothingLeft(Guid jobId)
    {
        var pids = JobProcesses.ReadPids(_work);
        Assert.True(pids.Count >= 1, "the job recorded its pids");
        Assert.Empty(JobProcesses.Alive(pids));

        uint? uid = perJobUids ? uint.Parse(File.ReadAllText(Path.Combine(_work, "uid")).Trim(), CultureInfo.InvariantCulture) : null;
        if (perJobUids)
        {
            Assert.InRange(uid!.Value, 200000u, 299999u);
        }

        Assert.Empty(JobProcesses.Scan(_tag, uid));
        if (mode == IsolationKill.Cgroup)
        {
            var group = $"{_runner!.Services.GetRequiredService<RunnerIsolation>().Cgroup!.Path}/job-{jobId:N}";
            Assert.True(!Directory.Exists(group) || File.ReadAllText($"{group}/cgroup.procs").Length == 0, $"{group} still has processes");
        }
    }
}

[Collection(IsolationTestsRunAlone.Name)]
public sealed class CgroupEscapeTests() : EscapeTests(IsolationKill.Cgroup, perJobUids: true);

[Collection(IsolationTestsRunAlone.Name)]
public sealed class CgroupSharedUidEscapeTests() : EscapeTests(IsolationKill.Cgroup, perJobUids: false);

[Collection(IsolationTestsRunAlone.Name)]
public sealed class PidNamespaceEscapeTests() : EscapeTests(IsolationKill.PidNamespace, perJobUids: true);

[Collection(IsolationTestsRunAlone.Name)]
public sealed class PidNamespaceSharedUidEscapeTests() : EscapeTests(IsolationKill.PidNamespace, perJobUids: false);

[Collection(IsolationTestsRunAlone.Name)]
public sealed class ProcessScanEscapeTests() : EscapeTests(IsolationKill.ProcessScan, perJobUids: true);
