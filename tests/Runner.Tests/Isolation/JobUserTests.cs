using System.Net.Http.Json;
using LogQuota.Runner.Configuration;
using Microsoft.Extensions.Logging;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §9, DSTACK_RUNNER_JOB_USER: a root runner runs every job as one existing user, with its uid, primary group,
/// supplementary groups, home and shell. The user and its group are really created with useradd and removed, home and
/// all, afterwards.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class JobUserTests : IAsyncLifetime
{
    private readonly string _user = $"lqjob{Random.Shared.Next(10000, 99999)}";
    private string Group => _user + "g";

    private RunnerHost? _runner;

    public async Task InitializeAsync()
    {
        if (Privileged.IsRoot)
        {
            Privileged.Run("groupadd", Group);
            Privileged.Run("useradd", "--create-home", "--shell", "/bin/bash", "--groups", Group, _user);
            _runner = await RunnerHost.StartAsync(jobUser: _user);
        }
    }

    public async Task DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }

        if (Privileged.IsRoot)
        {
            Privileged.Run("userdel", "--remove", _user);
            Privileged.Run("groupdel", Group);
        }
    }

    [SkippableFact]
    public async Task Job_RunsAsTheUser_WithItsGroupsAndHome()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var runner = _runner!;
        var expectedGroups = Privileged.Run("id", "-G", _user).Trim();
        var home = Privileged.Run("getent", "passwd", _user).Trim().Split(':')[5];

        var result = await runner.RunAsync(new JobSpec(
            ["echo \"name=$(id -un) groups=$(id -G | tr ' ' ,) home=$HOME pwd=$(pwd) user=$USER logname=$LOGNAME shell=$SHELL\"",
             "touch ~/written-by-job",
             "grep '^Max processes' /proc/self/limits | tr -s ' ' | cut -d' ' -f3,4"],
            Tty: false), TimeSpan.FromSeconds(60));

        Assert.True(JobState.Done == result.Final.State, result.AllText);
        var lines = result.Text.Split('\n');
        var fields = lines[0].Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal(_user, fields["name"]);
        Assert.Equal(expectedGroups.Replace(' ', ','), fields["groups"]);
        Assert.Contains(Privileged.Run("getent", "group", Group).Split(':')[2], fields["groups"].Split(','));
        Assert.Equal(home, fields["home"]);
        Assert.Equal(home, fields["pwd"]); // no code, no working_dir: HOME
        Assert.Equal(_user, fields["user"]);
        Assert.Equal(_user, fields["logname"]);
        Assert.Equal("/bin/bash", fields["shell"]);
        Assert.True(File.Exists(Path.Combine(home, "written-by-job")), "the job could not write into the user's home");
        Assert.Equal(_user, Privileged.Run("stat", "-c", "%U", Path.Combine(home, "written-by-job")).Trim());

        // The job's own directory (code/) is the user's too.
        var jobRoot = Path.Combine(runner.WorkDir, result.JobId.ToString("N"));
        Assert.Equal(_user, Privileged.Run("stat", "-c", "%U", Path.Combine(jobRoot, "code")).Trim());

        // No RLIMIT_NPROC: the uid is shared by every job and the user's own sessions.
        var ours = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max processes", StringComparison.Ordinal));
        Assert.Equal(string.Join(' ', ours.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2..4]), lines[1]);

        var health = await runner.Http.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options);
        Assert.Equal(IsolationUsers.JobUser, health!.Isolation!.Users);
    }

    [SkippableFact]
    public void AnUnknownUser_StopsStartUp_InOneLine()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var dir = Directory.CreateTempSubdirectory("logquota-runner-test-").FullName;
        try
        {
            var settings = new RunnerSettings { Port = 0, Dir = dir, WorkDir = RunnerHost.WorkDirOf(dir), JobUser = "lqnobody-such" };

            var error = Assert.Throws<SettingsException>(() => RunnerApplication.Build(settings, b => b.Logging.ClearProviders()));

            Assert.Equal("DSTACK_RUNNER_JOB_USER=lqnobody-such is not a user of this host", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
