using System.Globalization;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §7: a per-job uid is not handed out again while anything of it remains, and a restarted runner goes on
/// where its predecessor stopped. Otherwise a new job would get an old job's uid and read its 0600 files in /tmp.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class UidReuseTests
{
    [SkippableFact]
    public async Task AJobsFilesInTheSharedTemporaryDirectories_AreRemovedWhenItEnds()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        await using var runner = await RunnerHost.StartAsync();
        var secret = $"/tmp/logquota-uid-test-{Guid.NewGuid():N}";
        var shm = $"/dev/shm/logquota-uid-test-{Guid.NewGuid():N}";

        var result = await runner.RunAsync(new JobSpec([$"id -u; umask 077; echo checkpoint > {secret}; mkdir {shm} && ln -s /etc {shm}/etc"]));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.NotEqual("0", result.Text.Trim());
        await WaitUntilAsync(() => !File.Exists(secret) && !Directory.Exists(shm), $"{secret} and {shm} to be removed when their job ended");
        Assert.True(File.Exists("/etc/passwd"), "removing the job's directory must not follow the link inside it");
    }

    [SkippableFact]
    public async Task AUidWithAFileLeft_IsNotHandedOut()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var dir = Directory.CreateTempSubdirectory("logquota-runner-test-").FullName;
        var planted = $"/tmp/logquota-uid-test-{Guid.NewGuid():N}";
        try
        {
            await using (var runner = await RunnerHost.StartAsync(dir, keepDir: true))
            {
                await runner.RunAsync(new JobSpec(["true"]));
            }

            // The uid the runner would hand out next, from its own record; a file of it in /tmp, as a job of a runner
            // process that crashed leaves (while a runner runs, a file of a uid appears only from a process of its job).
            var next = NextUid(dir);
            await File.WriteAllTextAsync(planted, "left by an earlier job");
            Privileged.Run("chmod", "600", planted);
            Privileged.Run("chown", $"{next}:{next}", planted);

            await using var restarted = await RunnerHost.StartAsync(dir, keepDir: true);
            var result = await restarted.RunAsync(new JobSpec([$"id -u; cat {planted} 2>&1 || true"]));

            var lines = result.Text.Split('\n');
            Assert.NotEqual(next.ToString(CultureInfo.InvariantCulture), lines[0]);
            Assert.Contains("Permission denied", result.Text, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(planted);
            Directory.Delete(dir, recursive: true);
            Directory.Delete(RunnerHost.WorkDirOf(dir), recursive: true);
        }
    }

    [SkippableFact]
    public async Task ARestartedRunner_DoesNotHandOutTheUidsItsPredecessorUsedLast()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var dir = Directory.CreateTempSubdirectory("logquota-runner-test-").FullName;
        try
        {
            string first;
            await using (var runner = await RunnerHost.StartAsync(dir, keepDir: true))
            {
                first = (await runner.RunAsync(new JobSpec(["id -u"]))).Text.Trim();
            }

            await using var restarted = await RunnerHost.StartAsync(dir, keepDir: true);
            var second = (await restarted.RunAsync(new JobSpec(["id -u"]))).Text.Trim();

            Assert.NotEqual(first, second);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(RunnerHost.WorkDirOf(dir), recursive: true);
        }
    }

    private static uint NextUid(string runnerDir)
    {
        var next = File.ReadAllLines(Path.Combine(runnerDir, "job-uids")).Last(l => l.StartsWith("next ", StringComparison.Ordinal));
        return LogQuota.Runner.Configuration.UidRange.Default.First + uint.Parse(next[5..], CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 60 s for {what}");
            await Task.Delay(50);
        }
    }
}
