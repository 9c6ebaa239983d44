using System.Net;
using System.Net.Http.Json;
using LogQuota.Runner.Configuration;
using Microsoft.Extensions.Logging;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §9, the job's directories under a root runner with a uid per job: a directory of its own in
/// DSTACK_RUNNER_WORK_DIR with a HOME the job can write and reach, the working directory rules, and the start-up
/// check that jobs can reach the work directory at all. Real uids, real files.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class JobDirectoryTests : IAsyncLifetime
{
    private RunnerHost? _runner;

    public async Task InitializeAsync()
    {
        if (Privileged.IsRoot)
        {
            _runner = await RunnerHost.StartAsync();
        }
    }

    public async Task DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task Home_IsTheJobsOwn_AndWorksAsPipAndCdExpectIt()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var runner = _runner!;
        var result = await runner.RunAsync(new JobSpec(
            ["touch \"$HOME/x\" && mkdir -p ~/.cache/pip && cd ~ && echo \"pwd=$(pwd) uid=$(id -u) home=$(stat -c %u:%a \"$HOME\") job=$(stat -c %u:%a ..) code=$(stat -c %u:%a ../code) user=$USER logname=$LOGNAME shell=$SHELL\""],
            Tty: false), TimeSpan.FromSeconds(60));

        Assert.True(JobState.Done == result.Final.State, result.AllText);
        var fields = Fields(result.Text);
        var jobRoot = Path.Combine(runner.WorkDir, result.JobId.ToString("N"));
        Assert.Equal(Path.Combine(jobRoot, "home"), fields["pwd"]);
        Assert.NotEqual("0", fields["uid"]);
        Assert.Equal($"{fields["uid"]}:700", fields["home"]);
        Assert.Equal($"{fields["uid"]}:700", fields["job"]);
        Assert.Equal($"{fields["uid"]}:700", fields["code"]);
        Assert.Equal($"logquota-{fields["uid"]}", fields["user"]);
        Assert.Equal(fields["user"], fields["logname"]);
        Assert.Equal("/bin/sh", fields["shell"]);

        // Others pass through the work directory to the job's own, never list it; the runner's directory is private.
        Assert.Equal("711", Privileged.ModeOf(runner.WorkDir));
        Assert.Equal("700", Privileged.ModeOf(runner.Dir));
        Assert.True(Directory.Exists(jobRoot));
        using (var delete = await runner.Http.DeleteAsync($"/api/jobs/{result.JobId}"))
        {
            Assert.True(delete.IsSuccessStatusCode, await delete.Content.ReadAsStringAsync());
        }

        Assert.False(Directory.Exists(jobRoot), "the job's directory outlived its delete");
    }

    [SkippableFact]
    public async Task RelativeWorkingDir_IsCreatedInsideTheCodeDirectory_AsTheJobsUser()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var result = await _runner!.RunAsync(new JobSpec(
            ["echo \"pwd=$(pwd) owner=$(stat -c %u .) parent=$(stat -c %u ..) uid=$(id -u)\"; touch checkpoint"], WorkingDir: "out/run-1", Tty: false),
            TimeSpan.FromSeconds(60));

        Assert.True(JobState.Done == result.Final.State, result.AllText);
        var fields = Fields(result.Text);
        Assert.Equal(Path.Combine(_runner.WorkDir, result.JobId.ToString("N"), "code", "out", "run-1"), fields["pwd"]);
        Assert.Equal(fields["uid"], fields["owner"]);
        Assert.Equal(fields["uid"], fields["parent"]);
    }

    [SkippableFact]
    public async Task AbsoluteWorkingDir_IsUsedAsGiven()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var result = await _runner!.RunAsync(new JobSpec(["pwd"], WorkingDir: "/tmp", Tty: false), TimeSpan.FromSeconds(60));
        Assert.Equal("/tmp\n", result.Text);
    }

    [SkippableFact]
    public async Task DotDotInARelativeWorkingDir_IsRefusedAtSubmit()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var body = new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "escape"), new JobSpec(["true"], WorkingDir: "src/../../etc"));
        using var response = await _runner!.Http.PostAsJsonAsync("/api/jobs", body, LogQuotaJson.Options);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("must stay inside the code directory", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_runner.WorkDir, body.JobId.ToString("N"))));
    }

    [SkippableFact]
    public async Task ALeftoverOfTheSameJobId_IsRemovedAtSubmit()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var jobId = Guid.NewGuid();
        var stale = Path.Combine(_runner!.WorkDir, jobId.ToString("N"), "home", "stale");
        Directory.CreateDirectory(stale);

        await _runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "fresh"), new JobSpec(["ls -A ~ | wc -l"], Tty: false)), CancellationToken.None);
        var result = await _runner.PullToEndAsync(jobId);

        Assert.Equal("0\n", result.Text.TrimStart());
    }

    [SkippableFact]
    public async Task AWorkDirJobsCannotReach_StopsStartUp_NamingTheDirectoryAndItsMode()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var closed = Directory.CreateTempSubdirectory("logquota-closed-").FullName;
        var dir = Directory.CreateTempSubdirectory("logquota-runner-test-").FullName;
        try
        {
            Privileged.Run("chmod", "0700", closed);
            var settings = new RunnerSettings { Port = 0, Dir = dir, WorkDir = Path.Combine(closed, "work") };

            var error = Assert.Throws<SettingsException>(() => RunnerApplication.Build(settings, b => b.Logging.ClearProviders()));

            Assert.Equal(
                $"DSTACK_RUNNER_WORK_DIR={closed}/work is out of the jobs' reach: {closed} has mode 0700, and jobs run under other uids need search permission for others (o+x) on every directory above it",
                error.Message);
        }
        finally
        {
            Directory.Delete(closed, recursive: true);
            Directory.Delete(dir, recursive: true);
        }
    }

    [SkippableFact]
    public async Task WorkDirectory_IsTheTopOfAHierarchy_WhereItsFileSystemHasTheFlag()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var info = new System.Diagnostics.ProcessStartInfo("lsattr", ["-d", _runner!.WorkDir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var lsattr = System.Diagnostics.Process.Start(info)!;
        var output = await lsattr.StandardOutput.ReadToEndAsync();
        var error = await lsattr.StandardError.ReadToEndAsync();
        await lsattr.WaitForExitAsync();
        Skip.If(lsattr.ExitCode != 0, $"the work directory's file system has no inode flags here: {error.Trim()}");

        // chattr +T: ext4 spreads the job directories made in it over its block groups (JobDirectories says why).
        Assert.Contains('T', output.Split(' ')[0]);
    }

    private static Dictionary<string, string> Fields(string line) =>
        line.Trim().Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
}
