using System.Net.Http.Json;
using System.Text;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>The CLI as a user runs it, against the real server and its embedded runner running real jobs.</summary>
[Collection(LocalServerGroup.Name)]
public sealed class CliAgainstServerTests(LocalServer server)
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Run_StreamsTheLog_AndExitsZero_WhenTheRunIsDone()
    {
        var result = await Cli("run", "--name", "e2e-done", "-e", "WHO=world", "--", "echo \"hello $WHO\"; for i in 1 2 3; do echo tick $i; sleep 0.2; done");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("hello world\ntick 1\ntick 2\ntick 3\n", result.StdoutText);
        Assert.Equal(["run e2e-done submitted (log quota 50.0MiB/h)", "run e2e-done done: exited (0)"], result.StderrLines);
    }

    [Fact]
    public async Task Run_ExitsWithTheJobsExitCode_WhenTheJobFails()
    {
        var result = await Cli("run", "--name", "e2e-exit3", "--no-tty", "--", "sh", "-c", "echo 'about to fail' >&2; exit 3");

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Equal("about to fail\n", result.StdoutText);
        Assert.Equal("run e2e-exit3 failed: exited (3)", result.StderrLines[^1]);
    }

    [Fact]
    public async Task QuotaKill_IsStreamedAndReported_ThenShownByPsAndKeptByLogs()
    {
        // Far more than 1 KiB, as fast as the shell can print: the runner kills it at the crossing.
        var run = await Cli("run", "--name", "e2e-quota", "--log-quota", "1KiB", "--", "i=0; while true; do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done");

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Equal(
            "run e2e-quota failed: log quota exceeded (Job log output exceeded the hourly quota of 1024 bytes)",
            run.StderrLines[^1]);
        Assert.InRange(run.Stdout.Length, 1, 1024);
        Assert.StartsWith("line-0-", run.StdoutText, StringComparison.Ordinal);
        Assert.EndsWith("\n", run.StdoutText, StringComparison.Ordinal);

        var ps = await Cli("ps", "-a", "-v");
        Assert.Equal(0, ps.ExitCode);
        var header = ps.StdoutText.Split('\n')[0];
        Assert.Equal(["NAME", "STATUS", "SUBMITTED", "ERROR", "QUOTA", "LOGS/HOUR", "USED"], header.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var row = ps.StdoutText.Split('\n').Single(l => l.StartsWith("e2e-quota ", StringComparison.Ordinal));
        Assert.Contains(" error ", row, StringComparison.Ordinal);
        Assert.Contains(" log quota exceeded ", row, StringComparison.Ordinal);
        Assert.Contains(" 1.0KiB/h ", row, StringComparison.Ordinal);
        Assert.Equal("log quota exceeded", row[header.IndexOf("ERROR", StringComparison.Ordinal)..].Split("   ")[0]);

        // The runner's markers went to stderr as they came; stdout held the job's output alone.
        Assert.Matches(@"\[logquota\] warning: (80% of the log quota used|\d+% of the log quota used \(warning at 80%\)): ", run.Stderr);
        Assert.Contains("[logquota] log quota of 1.0 KiB for this hour reached; the job is being killed", run.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[logquota]", run.StdoutText, StringComparison.Ordinal);

        // logs --source job prints exactly the bytes the run streamed: everything stored before the kill; the whole
        // log has the markers in their place.
        var logs = await Cli("logs", "e2e-quota", "--source", "job");
        Assert.Equal(0, logs.ExitCode);
        Assert.Equal(run.Stdout, logs.Stdout);
        Assert.Empty(logs.Stderr);
        var all = await Cli("logs", "e2e-quota");
        Assert.StartsWith(run.StdoutText[..20], all.StdoutText, StringComparison.Ordinal);
        Assert.EndsWith("[logquota] log quota of 1.0 KiB for this hour reached; the job is being killed\n", all.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncate_RunEndsDone_WarningsOnStderr_ThenShowAndPsTellWhatWasDropped()
    {
        var run = await Cli("run", "--name", "e2e-truncate", "--log-quota", "1KiB", "--log-quota-action", "truncate", "--",
            "seq 1 3000; for i in $(seq 1 50); do echo 'CUDA warning: retrying'; done; echo last words");

        Assert.True(run.ExitCode == 0, run.ToString());
        var all = string.Concat(Enumerable.Range(1, 3000).Select(i => $"{i}\n"));
        Assert.Equal(all[..(all[..1024].LastIndexOf('\n') + 1)], run.StdoutText);
        Assert.Matches(@"\[logquota\] warning: (80% of the log quota used|\d+% of the log quota used \(warning at 80%\)): ", run.Stderr);
        Assert.Contains("[logquota] log quota of 1.0 KiB for this hour reached; output is dropped until ", run.Stderr, StringComparison.Ordinal);
        Assert.Contains(" were dropped; they follow\n", run.Stderr, StringComparison.Ordinal);
        Assert.Contains("CUDA warning: retrying\nlast words\n", run.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("log quota: 1.0KiB/h (truncate), exceeded at ", run.StderrLines[^2], StringComparison.Ordinal);
        Assert.Equal("run e2e-truncate done: exited (0)", run.StderrLines[^1]);

        var show = await Cli("show", "e2e-truncate");
        Assert.True(show.ExitCode == 0, show.ToString());
        var text = show.StdoutText;
        Assert.Contains("status:     done (exited (0)), log truncated", text, StringComparison.Ordinal);
        Assert.Contains("log quota:  1.0KiB/h, action truncate", text, StringComparison.Ordinal);
        Assert.Contains("[##############################] ", text, StringComparison.Ordinal);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(text, @"\n    \s*(49–)?50(–\d+)?×  CUDA warning: retrying\n"), text);
        Assert.Contains("log_quota_warning", text, StringComparison.Ordinal);
        Assert.Contains("log_quota_exceeded", text, StringComparison.Ordinal);
        Assert.Contains("log_truncated", text, StringComparison.Ordinal);

        var ps = await Cli("ps", "-v");
        var row = ps.StdoutText.Split('\n').Single(l => l.StartsWith("e2e-truncate ", StringComparison.Ordinal));
        Assert.Contains(" log truncated ", row, StringComparison.Ordinal);
        Assert.EndsWith(" 100%", row.TrimEnd(), StringComparison.Ordinal); // 1024 bytes of whole lines fit exactly

        var runnerOnly = await Cli("logs", "e2e-truncate", "--source", "runner");
        Assert.All(runnerOnly.StdoutText.Split('\n').Where(l => l.StartsWith('[')), l => Assert.StartsWith("[logquota] ", l, StringComparison.Ordinal));
        Assert.DoesNotContain("\n1\n2\n", runnerOnly.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoCode_AndAnAbsoluteWorkingDir_ReachTheSubmitBody_AndTheJobStartsThere()
    {
        using var project = new ProjectTree();
        project.Write("train.py", "print('never sent')\n");

        var result = await CliProcess.RunInAsync(server.CliEnvironment, project.Root,
            "run", "--name", "e2e-no-code", "--no-code", "--working-dir", "/tmp", "--no-tty", "--", "pwd");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("/tmp\n", result.StdoutText);
        Assert.Equal(["run e2e-no-code submitted (log quota 50.0MiB/h)", "run e2e-no-code done: exited (0)"], result.StderrLines);
        using var http = server.CreateAdminHttpClient();
        var spec = (await http.GetFromJsonAsync<RunDetails>(new Uri("/api/runs/e2e-no-code", UriKind.Relative), LogQuotaJson.Options))!.Jobs[0].JobSpec;
        Assert.Equal("/tmp", spec.WorkingDir);
        Assert.Null(spec.CodeHash);
    }

    [Fact]
    public async Task Run_RefusesAnUnknownQuotaAction_AsAUsageError()
    {
        var result = await Cli("run", "--log-quota-action", "delete", "--", "true");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--log-quota-action", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_PrintsStoredBytesExactly_InvalidUtf8AndCarriageReturnsIncluded()
    {
        // On a pipe nothing is rewritten but what the terminal processing defines; invalid UTF-8 is kept as it came.
        var run = await Cli("run", "--name", "e2e-bytes", "--no-tty", "--", "printf 'caf\\303\\251 \\377\\376 end\\n'");
        Assert.True(run.ExitCode == 0, run.ToString());

        var logs = await Cli("logs", "e2e-bytes");
        Assert.Equal(0, logs.ExitCode);
        Assert.Equal(run.Stdout, logs.Stdout);
        Assert.Equal([.. "caf"u8, 0xC3, 0xA9, (byte)' ', 0xFF, 0xFE, .. " end\n"u8], logs.Stdout);
    }

    [Fact]
    public async Task LogsFollow_PrintsUntilTheRunEnds()
    {
        using (var http = server.CreateAdminHttpClient())
        {
            var submit = await http.PostAsJsonAsync(
                "/api/runs",
                new SubmitRunRequest(["for i in 1 2 3 4 5; do echo tick-$i; sleep 0.3; done"], RunName: "e2e-follow"),
                LogQuotaJson.Options);
            Assert.True(submit.IsSuccessStatusCode, await submit.Content.ReadAsStringAsync());
        }

        var logs = await Cli("logs", "-f", "e2e-follow");

        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal("tick-1\ntick-2\ntick-3\ntick-4\ntick-5\n", logs.StdoutText);
    }

    [Fact]
    public async Task Stop_EndsARunningRun_AndTheStreamingRunReportsIt()
    {
        using var running = new CliProcess(server.CliEnvironment);
        running.Start("run", "--name", "e2e-stop", "--", "echo started; sleep 300");
        await running.WaitForOutputAsync("started\n", JobTimeout);

        var stop = await Cli("stop", "e2e-stop");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("stopping run e2e-stop\n", stop.StdoutText);

        var result = await running.WaitAsync(JobTimeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Equal("run e2e-stop terminated: stopped", result.StderrLines[^1]);

        var again = await Cli("stop", "e2e-stop");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal("run e2e-stop has already finished: stopped\n", again.StdoutText);
    }

    [Fact]
    public async Task CtrlC_AtATerminal_AsksAndStops_WhenTheAnswerIsS()
    {
        using var running = new CliProcess(server.CliEnvironment, stdinIsTerminal: true, keys: 's');
        running.Start("run", "--name", "e2e-ctrlc-stop", "--", "echo started; sleep 300");
        await running.WaitForOutputAsync("started\n", JobTimeout);

        running.Interrupt();

        var result = await running.WaitAsync(JobTimeout);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("stop the run or detach? [s/d] s\n", result.Stderr, StringComparison.Ordinal);
        Assert.Equal("run e2e-ctrlc-stop terminated: stopped", result.StderrLines[^1]);
    }

    [Fact]
    public async Task CtrlC_WithoutATerminal_Detaches_AndTheRunGoesOn()
    {
        using var running = new CliProcess(server.CliEnvironment);
        running.Start("run", "--name", "e2e-detach", "--", "echo started; sleep 300");
        await running.WaitForOutputAsync("started\n", JobTimeout);

        running.Interrupt();

        var result = await running.WaitAsync(JobTimeout);
        Assert.Equal(0, result.ExitCode);
        Assert.StartsWith("detached from run e2e-detach", result.StderrLines[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("[s/d]", result.Stderr, StringComparison.Ordinal);

        var ps = await Cli("ps");
        Assert.Contains(ps.StdoutText.Split('\n'), l => l.StartsWith("e2e-detach ", StringComparison.Ordinal) && l.Contains(" running ", StringComparison.Ordinal));
        Assert.Equal(0, (await Cli("stop", "e2e-detach")).ExitCode);
    }

    [Fact]
    public async Task ARefusedToken_IsNamedByItsSource_TheVariableOrTheTokenFileOfAnotherServer()
    {
        var otherServerDir = Directory.CreateTempSubdirectory("logquota-other-server-");
        try
        {
            var tokenFile = Path.Combine(otherServerDir.FullName, "admin-token");
            await File.WriteAllTextAsync(tokenFile, "the-token-of-another-server\n");
            var fromFile = await CliProcess.RunAsync(
                new Dictionary<string, string> { ["DSTACK_SERVER_URL"] = server.Url.ToString(), ["DSTACK_SERVER_DIR"] = otherServerDir.FullName }, "ps");
            var fromVariable = await CliProcess.RunAsync(
                new Dictionary<string, string> { ["DSTACK_SERVER_URL"] = server.Url.ToString(), ["DSTACK_TOKEN"] = "a-stale-token-from-yesterday" }, "ps");

            AssertOneErrorLine(fromFile, $"error: the server rejected the token from the token file {tokenFile} (set DSTACK_TOKEN or --token to your token on this server, or its admin token)");
            AssertOneErrorLine(fromVariable, "error: the server rejected the token in DSTACK_TOKEN (set DSTACK_TOKEN or --token to your token on this server, or its admin token)");
        }
        finally
        {
            otherServerDir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task TokenFromTheEnvironment_IsUsed()
    {
        var env = new Dictionary<string, string>
        {
            ["DSTACK_SERVER_URL"] = server.Url.ToString(),
            ["DSTACK_TOKEN"] = server.AdminToken,
        };
        var result = await CliProcess.RunAsync(env, "ps", "-a");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("NAME", result.StdoutText, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestTheServerRefuses_IsItsDetailOnOneLine()
    {
        // A script longer than the runner can exec (120 KiB): the server's detail, on one line.
        var result = await Cli("run", "--", "echo " + new string('x', 130 * 1024));

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.Contains("commands", line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Fact]
    public async Task Ps_ShowsActiveRunsByDefault_AndTheNewestNWithDashN_PagedOnTheServer()
    {
        Assert.Equal(0, (await Cli("run", "--name", "e2e-ps-old", "--", "true")).ExitCode);
        Assert.Equal(0, (await Cli("run", "--name", "e2e-ps-new", "--", "true")).ExitCode);
        using var http = server.CreateAdminHttpClient();
        using (var submitted = await http.PostAsJsonAsync(
            new Uri("/api/runs", UriKind.Relative), new SubmitRunRequest(["sleep 600"], RunName: "e2e-ps-live"), LogQuotaJson.Options))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, submitted.StatusCode);
        }

        try
        {
            var active = await Cli("ps");
            Assert.True(active.ExitCode == 0, active.ToString());
            var names = active.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ')[0]).ToList();
            Assert.Contains("e2e-ps-live", names);
            Assert.DoesNotContain("e2e-ps-new", names);
            Assert.Empty(active.Stderr);

            var newest = await Cli("ps", "-a", "-n", "2");
            Assert.True(newest.ExitCode == 0, newest.ToString());
            Assert.Equal(["e2e-ps-live", "e2e-ps-new"], newest.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ')[0]));
            Assert.Equal(["(the newest 2 runs; -n N shows more)"], newest.StderrLines);

            var bad = await Cli("ps", "-n", "0");
            Assert.Equal(2, bad.ExitCode);
            Assert.StartsWith("error: -n must be a whole number of at least 1, got 0", Assert.Single(bad.StderrLines), StringComparison.Ordinal);
        }
        finally
        {
            Assert.Equal(0, (await Cli("stop", "e2e-ps-live")).ExitCode);
        }
    }

    [Theory]
    [InlineData("logs", "no-such-run")]
    [InlineData("logs", "-f", "no-such-run")]
    [InlineData("stop", "no-such-run")]
    public async Task UnknownRun_IsOneLine_AndNonZeroExit(params string[] args)
    {
        var result = await Cli(args);
        AssertOneErrorLine(result, "error: run no-such-run not found");
    }

    [Theory]
    [InlineData("ps")]
    [InlineData("logs", "e2e-any")]
    [InlineData("stop", "e2e-any")]
    [InlineData("run", "--", "echo never")]
    public async Task BadToken_IsOneLine_AndNonZeroExit(params string[] args)
    {
        var result = await Cli(["--token", "not-the-token", .. args]);
        AssertOneErrorLine(result, "error: the server rejected the token given with --token (set DSTACK_TOKEN or --token to your token on this server, or its admin token)");
    }

    [Theory]
    [InlineData("ps")]
    [InlineData("logs", "r")]
    [InlineData("logs", "-f", "r")]
    [InlineData("stop", "r")]
    [InlineData("run", "--", "echo never")]
    public async Task ServerDown_IsOneLine_AndNonZeroExit(params string[] args)
    {
        var url = $"http://127.0.0.1:{ClosedPort()}";
        var result = await CliProcess.RunAsync(new Dictionary<string, string> { ["DSTACK_SERVER_URL"] = url }, args);
        AssertOneErrorLine(result, $"error: cannot reach the server at {url}: nothing listens there (connection refused); is the server running?");
    }

    private static void AssertOneErrorLine(CliResult result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal([expected], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    /// <summary>A loopback port nothing listens on: bound by the OS, then released.</summary>
    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private Task<CliResult> Cli(params string[] args) => CliProcess.RunAsync(server.CliEnvironment, args);
}
