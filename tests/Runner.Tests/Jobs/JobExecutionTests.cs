using System.Globalization;
using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>Real jobs on a real runner over loopback HTTP: real shells, real pseudo-terminals, real kills.</summary>
public sealed class JobExecutionTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _runner = await RunnerHost.StartAsync();
        _work = Directory.CreateTempSubdirectory("logquota-job-test-").FullName;
        // A root runner runs each job under a uid of its own (SPEC §7): the job writes its pid files here as that uid.
        Isolation.Privileged.OpenToJobs(_work);
    }

    public async Task DisposeAsync()
    {
        await _runner.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    private static JobSpec Spec(string command, long? quota = null, bool tty = true, int? maxDuration = null,
        IReadOnlyDictionary<string, string>? env = null, string? workingDir = null) =>
        new([command], env, workingDir, maxDuration, quota, tty);

    [Fact]
    public async Task DstackCase_QuotaOf100_KillsAtOnce_AndKeepsTheFirstLine()
    {
        // Twenty 52-byte lines against 100 bytes: dstack rejects the whole chunk and keeps nothing.
        var result = await _runner.RunAsync(Spec("for i in $(seq 1 20); do printf '%051d\\n' $i; done; sleep 30", quota: 100));

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.Equal("Job log output exceeded the hourly quota of 100 bytes", result.Final.TerminationMessage);
        Assert.Null(result.Final.ExitStatus);
        Assert.Equal($"{1.ToString("D51", CultureInfo.InvariantCulture)}\n", result.Text);
        Assert.Equal("[logquota] log quota of 100 B for this hour reached; the job is being killed\n", result.RunnerText);
        Assert.True(result.Final.Timestamp > result.Logs[^1].Timestamp, "the final state must come after the last stored log event");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Quota1000_Against5000Lines_StoresTheWholeLinesThatFit(bool tty)
    {
        var result = await _runner.RunAsync(Spec("seq 1 5000", quota: 1000, tty: tty));

        var all = string.Concat(Enumerable.Range(1, 5000).Select(i => $"{i}\n"));
        var expected = all[..(all[..1000].LastIndexOf('\n') + 1)];
        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.Equal(expected, result.Text);
        Assert.True(result.Bytes.Length <= 1000);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour);
    }

    [Fact]
    public async Task Stderr_IsCountedAgainstTheQuota()
    {
        var result = await _runner.RunAsync(Spec("while true; do echo 'to stderr' >&2; done", quota: 100));

        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        Assert.Equal(string.Concat(Enumerable.Repeat("to stderr\n", 10)), result.Text);
    }

    [Fact]
    public async Task ProgressBar_RedrawnAThousandTimes_IsStoredOnce_AndFitsASmallQuota()
    {
        const string bar = "i=0; while [ $i -lt 1000 ]; do i=$((i+1)); printf '\\r\\033[32mprogress %4d/1000\\033[0m' $i; done; printf '\\n'";
        var result = await _runner.RunAsync(Spec(bar, quota: 100));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(0, result.Final.ExitStatus);
        Assert.Equal("progress 1000/1000\n", result.Text);
    }

    [Fact]
    public async Task QuotaKill_LeavesNoSurvivors_WhenJobDaemonizesAndBackgrounds()
    {
        var command = string.Join("\n",
            "sleep 1000 & echo $! > bg.pid",
            "setsid nohup sh -c 'echo $$ > gc.pid; exec sleep 1000' > /dev/null 2>&1 &",
            "(setsid sh -c 'sleep 1000 & echo $! > df.pid' > /dev/null 2>&1 &)",
            "while [ ! -s gc.pid ] || [ ! -s df.pid ]; do sleep 0.05; done",
            "yes");
        var result = await _runner.RunAsync(Spec(command, quota: 1000, workingDir: _work));

        Assert.Equal(TerminationReason.LogQuotaExceeded, result.Final.TerminationReason);
        foreach (var file in new[] { "bg.pid", "gc.pid", "df.pid" })
        {
            var pid = int.Parse(File.ReadAllText(Path.Combine(_work, file)).Trim(), CultureInfo.InvariantCulture);
            Assert.False(IsAlive(pid), $"process {pid} from {file} survived the quota kill");
        }
    }

    [Fact]
    public async Task MainExit_KillsWhatItLeftBehind()
    {
        var result = await _runner.RunAsync(Spec("sleep 1000 & echo $! > bg.pid; echo started", workingDir: _work));

        Assert.Equal(JobState.Done, result.Final.State);
        var pid = int.Parse(File.ReadAllText(Path.Combine(_work, "bg.pid")).Trim(), CultureInfo.InvariantCulture);
        Assert.False(IsAlive(pid));
    }

    [Theory]
    [InlineData(true, "stdin tty, stdout tty, stderr tty, ctty yes\n")]
    [InlineData(false, "stdin pipe, stdout pipe, stderr pipe, ctty no\n")]
    public async Task Tty_IsARealControllingTerminal_OrAPipe(bool tty, string expected)
    {
        // Variables, not command substitution: $(...) would make stdout a pipe inside the probe.
        const string probe =
            "a=pipe; test -t 0 && a=tty; b=pipe; test -t 1 && b=tty; c=pipe; test -t 2 && c=tty; " +
            "t=no; (: < /dev/tty) 2>/dev/null && t=yes; " +
            "echo \"stdin $a, stdout $b, stderr $c, ctty $t\"";
        var result = await _runner.RunAsync(Spec(probe, tty: tty));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(expected, result.Text);
    }

    [Fact]
    public async Task Pipe_MergesStdoutAndStderrInOrder()
    {
        var result = await _runner.RunAsync(Spec("echo a; echo b >&2; echo c", tty: false));
        Assert.Equal("a\nb\nc\n", result.Text);
    }

    [Theory]
    [InlineData("true", JobState.Done, null, 0)]
    [InlineData("exit 3", JobState.Failed, TerminationReason.ContainerExitedWithError, 3)]
    [InlineData("kill -9 $$", JobState.Failed, TerminationReason.ContainerExitedWithError, 137)]
    public async Task ExitStatus_MapsToFinalState(string command, JobState state, TerminationReason? reason, int exitStatus)
    {
        var result = await _runner.RunAsync(Spec(command));

        Assert.Equal(state, result.Final.State);
        Assert.Equal(reason, result.Final.TerminationReason);
        Assert.Equal(exitStatus, result.Final.ExitStatus);
    }

    [Fact]
    public async Task Commands_RunInOneShell_JoinedByAnd()
    {
        var result = await _runner.RunAsync(new JobSpec(["X=1", "echo x=$X", "false", "echo never"]));

        Assert.Equal("x=1\n", result.Text);
        Assert.Equal(1, result.Final.ExitStatus);
    }

    [Fact]
    public async Task MaxDuration_TerminatesTheJob()
    {
        var result = await _runner.RunAsync(Spec("echo begin; sleep 60", maxDuration: 1));

        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal(TerminationReason.MaxDurationExceeded, result.Final.TerminationReason);
        Assert.Equal("Max duration exceeded", result.Final.TerminationMessage);
        Assert.Contains(result.States, s => s.State == JobState.Terminating);
        Assert.Equal("begin\n", result.Text);
    }

    [Theory]
    [InlineData(null, TerminationReason.TerminatedByServer)]
    [InlineData(TerminationReason.TerminatedByUser, TerminationReason.TerminatedByUser)]
    public async Task Stop_TerminatesTheJob_WithTheGivenReason(TerminationReason? given, TerminationReason expected)
    {
        var jobId = Guid.NewGuid();
        await _runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "stop-me"),
            Spec("echo ready; sleep 60", workingDir: _work)), CancellationToken.None);
        await WaitForTextAsync(jobId, "ready");

        await _runner.Api.StopAsync(jobId, new StopBody(given), CancellationToken.None);
        var result = await _runner.PullToEndAsync(jobId);

        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal(expected, result.Final.TerminationReason);
    }

    [Fact]
    public async Task EnvAndWorkingDir_AreApplied_AndRunnerSecretsAreNot()
    {
        var result = await _runner.RunAsync(Spec(
            "echo \"$FOO|$(pwd)|$DSTACK_RUN_NAME|$DSTACK_JOB_ID|${DSTACK_RUNNER_TOKEN:-no-token}\"",
            env: new Dictionary<string, string> { ["FOO"] = "bar baz" }, workingDir: _work));

        Assert.Equal($"bar baz|{_work}|test-run|{result.JobId}|no-token\n", result.Text);
    }

    [Fact]
    public async Task DefaultWorkingDir_IsAFreshDirectoryPerJob()
    {
        var first = await _runner.RunAsync(Spec("pwd; ls -A | wc -l; touch mark"));
        var second = await _runner.RunAsync(Spec("pwd; ls -A | wc -l"));

        var (dir1, dir2) = (first.Text.Split('\n')[0], second.Text.Split('\n')[0]);
        Assert.NotEqual(dir1, dir2);
        Assert.StartsWith(_runner.WorkDir + "/", dir1, StringComparison.Ordinal);
        Assert.Equal("0", second.Text.Split('\n')[1].Trim());
    }

    [Fact]
    public async Task MissingWorkingDir_EndsFailed_WithExecutorError()
    {
        var result = await _runner.RunAsync(Spec("true", workingDir: "/nonexistent/logquota"));

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.ExecutorError, result.Final.TerminationReason);
        Assert.Contains("/nonexistent/logquota", result.Final.TerminationMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnfinishedLine_IsStoredWhenTheJobEnds()
    {
        var result = await _runner.RunAsync(Spec("printf 'no newline'"));
        Assert.Equal("no newline\n", result.Text);
    }

    [Fact]
    public async Task UnfinishedLine_IsLiveWhileTheJobRuns_AndStoredOnceWhenItEnds()
    {
        var jobId = Guid.NewGuid();
        await _runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "slow"),
            Spec("printf 'done\\nwaiting...'; sleep 60")), CancellationToken.None);

        var live = await WaitForLiveAsync(jobId, "waiting...");
        Assert.Equal("waiting...", live.Live);
        await _runner.Api.StopAsync(jobId, new StopBody(), CancellationToken.None);
        var result = await _runner.PullToEndAsync(jobId);

        Assert.Equal("done\nwaiting...\n", result.Text);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour);
    }

    [Fact]
    public async Task NestedProgressBars_AreLiveWhileRedrawn_AndStoredOnceInTheirFinalState()
    {
        // Two bars redrawn 200 times in place, as tqdm draws nested loops, then a plain line.
        const string bars = "i=0; while [ $i -lt 200 ]; do i=$((i+1)); printf '\\router %3d\\n\\rinner %3d\\033[A' $i $i; done; "
            + "printf '\\n\\n' ; echo ready; sleep 60";
        var jobId = Guid.NewGuid();
        await _runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "bars"), Spec(bars)), CancellationToken.None);

        var live = await WaitForLiveAsync(jobId, "ready");
        Assert.Equal("outer 200\ninner 200\nready", live.Live);
        await _runner.Api.StopAsync(jobId, new StopBody(), CancellationToken.None);
        var result = await _runner.PullToEndAsync(jobId);

        Assert.Equal("outer 200\ninner 200\nready\n", result.Text);
        Assert.Equal(result.Bytes.Length, result.LogBytesHour);
    }

    /// <summary>Pulls until the live region holds <paramref name="text"/>; returns it decoded.</summary>
    private async Task<(string Stored, string Live)> WaitForLiveAsync(Guid jobId, string text)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var stored = new StringBuilder();
        long cursor = 0;
        while (true)
        {
            var pull = await _runner.Api.PullAsync(jobId, cursor, cts.Token);
            foreach (var log in pull.JobLogs)
            {
                stored.Append(Encoding.UTF8.GetString(log.Message));
            }

            cursor = pull.LastUpdated;
            var live = pull.Live is null ? "" : Encoding.UTF8.GetString(pull.Live);
            if (live.Contains(text, StringComparison.Ordinal))
            {
                return (stored.ToString(), live);
            }

            await Task.Delay(50, cts.Token);
        }
    }

    [Fact]
    public async Task Pull_PagesABigLog_ReturningEveryByteOnceInOrder()
    {
        // 12 MB of 100-byte lines on a pipe: more than two 4 MiB pull pages.
        var result = await _runner.RunAsync(Spec("yes \"$(printf '%099d' 0 | tr 0 a)\" | head -n 120000", tty: false));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.True(result.Pages >= 3, $"expected several pages, got {result.Pages}");
        Assert.Equal(12_000_000, result.Bytes.Length);
        Assert.Equal(120_000, result.Bytes.Count(b => b == (byte)'\n'));
        Assert.Equal(11_880_000, result.Bytes.Count(b => b == (byte)'a'));
        for (var i = 1; i < result.Logs.Count; i++)
        {
            Assert.True(result.Logs[i].Timestamp > result.Logs[i - 1].Timestamp);
        }

        var middle = result.Logs[result.Logs.Count / 2].Timestamp;
        var later = await _runner.Api.PullAsync(result.JobId, middle, CancellationToken.None);
        Assert.All(later.JobLogs, l => Assert.True(l.Timestamp > middle));
        Assert.Equal(result.Logs[(result.Logs.Count / 2) + 1].Timestamp, later.JobLogs[0].Timestamp);
    }

    [Fact]
    public async Task InvalidUtf8_IsKeptAsWritten_AndControlBytesActAsOnAScreen()
    {
        // \001 shows nothing; the tab moves to column 8 over blank cells, which read as spaces.
        var result = await _runner.RunAsync(Spec("printf 'a\\377\\376b\\001\\tc\\n'", tty: false));
        Assert.Equal(new byte[] { (byte)'a', 0xFF, 0xFE, (byte)'b', 32, 32, 32, 32, (byte)'c', (byte)'\n' }, result.Bytes);
    }

    private async Task WaitForTextAsync(Guid jobId, string text)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var seen = new StringBuilder();
        long cursor = 0;
        while (!seen.ToString().Contains(text, StringComparison.Ordinal))
        {
            var pull = await _runner.Api.PullAsync(jobId, cursor, cts.Token);
            foreach (var log in pull.JobLogs)
            {
                seen.Append(Encoding.UTF8.GetString(log.Message));
            }

            cursor = pull.LastUpdated;
            await Task.Delay(50, cts.Token);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            return state is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
