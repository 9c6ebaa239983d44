using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// SPEC §7 and §9 through the built binaries: a job's environment is reset (the service's secrets never reach it, a
/// name in DSTACK_RUNNER_JOB_ENV_PASS does), and under a root server the local runner gives each job a uid and a HOME
/// of its own, honouring the runner's job settings from the server's environment.
/// </summary>
public sealed class JobEnvironmentTests
{
    /// <summary>What operators start services with and jobs must never see.</summary>
    private static readonly Dictionary<string, string> Secrets = new()
    {
        ["PGPASSWORD"] = "pg-secret-6d1f0a",
        ["AWS_SECRET_ACCESS_KEY"] = "aws-secret-9c2e7b",
        ["ConnectionStrings__Main"] = "Host=db;Password=cs-secret-4a8d",
    };

    [Fact]
    public async Task Runner_StartedWithSecrets_HandsNoneToItsJobs()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1, runnerSettings: new(Secrets));

        var env = await EnvOfAJobAsync(system, "clean");

        foreach (var (name, value) in Secrets)
        {
            Assert.DoesNotContain(value, env, StringComparison.Ordinal);
            Assert.DoesNotContain($"{name}=", env, StringComparison.Ordinal);
        }

        Assert.Contains("PATH=", env, StringComparison.Ordinal);
        Assert.Contains("HOME=", env, StringComparison.Ordinal);
        Assert.Contains("DSTACK_RUN_NAME=clean", env, StringComparison.Ordinal);
        Assert.DoesNotContain("DSTACK_RUNNER_", env, StringComparison.Ordinal);
    }

    // Over 60 s beside a CPU hog (71.8 s measured in .ci/stress), with no fixed wait: a runner (its isolation probes
    // start real jobs) and a server (a new database's migrations) start as .NET processes, then one job runs `env`.
    [Fact]
    public async Task Runner_PassesTheNamesOfJobEnvPass_AndNothingElse()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 1,
            runnerSettings: new(Secrets) { ["DSTACK_RUNNER_JOB_ENV_PASS"] = "PGPASSWORD" });

        var env = await EnvOfAJobAsync(system, "passed");

        Assert.Contains($"PGPASSWORD={Secrets["PGPASSWORD"]}", env, StringComparison.Ordinal);
        Assert.DoesNotContain(Secrets["AWS_SECRET_ACCESS_KEY"], env, StringComparison.Ordinal);
        Assert.DoesNotContain(Secrets["ConnectionStrings__Main"], env, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LocalRunner_OfAServerStartedWithSecrets_HandsNoneToItsJobs_ButWhatJobEnvPassNames()
    {
        await using var system = await SystemProcesses.StartAsync(runners: 0,
            serverSettings: new(Secrets) { ["DSTACK_RUNNER_JOB_ENV_PASS"] = "AWS_SECRET_ACCESS_KEY" });

        var env = await EnvOfAJobAsync(system, "local");

        Assert.DoesNotContain(Secrets["PGPASSWORD"], env, StringComparison.Ordinal);
        Assert.DoesNotContain(Secrets["ConnectionStrings__Main"], env, StringComparison.Ordinal);
        Assert.Contains($"AWS_SECRET_ACCESS_KEY={Secrets["AWS_SECRET_ACCESS_KEY"]}", env, StringComparison.Ordinal);
    }

    // Over 60 s beside a CPU hog (73.6 s measured in .ci/stress), with no fixed wait: a server with its local runner
    // starts under root (the new database's migrations, the runner's isolation probes, which start real jobs, one of
    // them under the first uid of the range), then one job runs.
    [SkippableFact]
    public async Task LocalRunner_OfARootServer_GivesEachJobAUidFromItsRange_AndAHomeItCanUse()
    {
        Skip.If(Environment.UserName != "root", "needs root: the local runner gives jobs their own uids only as root (CI runs as root)");
        await using var system = await SystemProcesses.StartAsync(runners: 0, serverSettings: new()
        {
            ["DSTACK_RUNNER_JOB_UIDS"] = "251000-251099",
            ["DSTACK_RUNNER_JOB_PIDS_MAX"] = "345",
        });

        // What pip, Hugging Face and torch hub do with HOME, then where the job is and under which limits.
        await system.SubmitAsync(new SubmitRunRequest(
            ["touch \"$HOME/x\" && mkdir -p ~/.cache/pip && cd ~ && echo \"uid=$(id -u) owner=$(stat -c %u \"$HOME\") home=$HOME pwd=$(pwd) user=$USER nproc=$(grep '^Max processes' /proc/self/limits | awk '{print $3}')\""],
            RunName: "homely", Tty: false));
        var run = await system.WaitFinishedAsync("homely");
        var text = Encoding.UTF8.GetString(await system.LogTextAsync("homely")).Trim();

        Assert.True(run.Status == RunStatus.Done, $"{run.Status} {run.TerminationReason}: {text}\n{system.ProcessOutput}");
        var fields = text.Split(' ').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1]);
        Assert.True(fields.Count == 6, text);
        Assert.InRange(uint.Parse(fields["uid"], System.Globalization.CultureInfo.InvariantCulture), 251000u, 251099u);
        Assert.Equal(fields["uid"], fields["owner"]);
        Assert.Equal(fields["home"], fields["pwd"]);
        Assert.StartsWith(system.ServerWorkDir + "/", fields["home"], StringComparison.Ordinal);
        Assert.EndsWith("/home", fields["home"], StringComparison.Ordinal);
        Assert.Equal($"logquota-{fields["uid"]}", fields["user"]);
        Assert.Equal("345", fields["nproc"]);

        // The local runner's directory stays private: nothing of it has to be reachable by a job any more.
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.Combine(system.ServerDir, "runner")));
        }
    }

    [SkippableFact]
    public async Task LocalRunner_OfARootServer_RunsJobsAsDstackRunnerJobUser()
    {
        Skip.If(Environment.UserName != "root", "needs root: useradd, and a runner that may change a job's user (CI runs as root)");
        var user = $"lqe2e{Random.Shared.Next(10000, 99999)}";
        await RunAsync("useradd", "--create-home", user);
        try
        {
            await using var system = await SystemProcesses.StartAsync(runners: 0, serverSettings: new() { ["DSTACK_RUNNER_JOB_USER"] = user });
            await system.SubmitAsync(new SubmitRunRequest(["echo \"$(id -un) $HOME $USER\" && touch ~/from-the-job"], RunName: "as-user", Tty: false));
            var run = await system.WaitFinishedAsync("as-user");
            var text = Encoding.UTF8.GetString(await system.LogTextAsync("as-user")).Trim();

            var home = (await RunAsync("getent", "passwd", user)).Trim().Split(':')[5];
            Assert.True(run.Status == RunStatus.Done, $"{run.Status}: {text}\n{system.ProcessOutput}");
            Assert.Equal($"{user} {home} {user}", text);
            Assert.True(File.Exists(Path.Combine(home, "from-the-job")), "the job could not write into the user's home");
        }
        finally
        {
            await RunAsync("userdel", "--remove", user);
        }
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}");
        return output;
    }

    private static async Task<string> EnvOfAJobAsync(SystemProcesses system, string runName)
    {
        await system.SubmitAsync(new SubmitRunRequest(["env"], RunName: runName, Tty: false));
        var run = await system.WaitFinishedAsync(runName);
        var env = Encoding.UTF8.GetString(await system.LogTextAsync(runName));
        Assert.True(run.Status == RunStatus.Done, $"{run.Status}: {env}\n{system.ProcessOutput}");
        return env;
    }
}
