using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// SPEC §7, privilege separation under a root runner: each job has a uid of its own, and with it cannot reach the
/// runner's environment, another job's spool, home, terminal or processes. Real uids, real files, real signals.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class PerJobUidTests : IAsyncLifetime
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
    public async Task Job_CannotReachTheRunnerOrAnotherJob_ButOwnsItsHomeAndTerminal()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var runner = _runner!;

        // The victim: a terminal job that says where its terminal is and which pid it has, then waits.
        var victim = Guid.NewGuid();
        await runner.Api.SubmitAsync(new SubmitBody(victim, new RunRef(Guid.NewGuid(), "victim"),
            new JobSpec(["echo \"tty=$(tty) pid=$$ uid=$(id -u) owner=$(stat -c %u $(tty)) mode=$(stat -c %a $(tty)) home=$(stat -c %u:%a $HOME)\"; sleep 300"])),
            CancellationToken.None);
        var said = await WaitForLineAsync(runner, victim, "tty=");
        var fields = said.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
        Assert.Equal(fields["uid"], fields["owner"]); // the terminal belongs to the job's uid...
        Assert.Equal("600", fields["mode"]);           // ...and to nobody else
        Assert.Equal($"{fields["uid"]}:700", fields["home"]);

        var victimDir = Path.Combine(runner.Dir, "jobs", victim.ToString("N"));
        var victimHome = Path.Combine(runner.WorkDir, victim.ToString("N"), "home");
        Assert.Equal("600", Privileged.ModeOf(Path.Combine(victimDir, "log.spool")));
        Assert.Equal("700", Privileged.ModeOf(victimDir));

        // The attacker tries each way in; "denied" is what it must say for each, and its own home works.
        string Try(string what, string command) => $"if {command} >/dev/null 2>&1; then echo {what}:got-in; else echo {what}:denied; fi";
        var attack = string.Join("; ",
            Try("runner-environ", $"cat /proc/{Environment.ProcessId}/environ"),
            Try("runner-memory", $"head -c 1 /proc/{Environment.ProcessId}/mem"),
            Try("spool", $"cat {victimDir}/log.spool"),
            Try("spools", $"ls {Path.Combine(runner.Dir, "jobs")}"),
            Try("home", $"ls {victimHome}"),
            Try("terminal", $"sh -c 'echo injected > {fields["tty"]}'"),
            Try("signal", $"kill -0 {fields["pid"]}"),
            Try("own-home", "touch \"$HOME/mine\""));
        var result = await runner.RunAsync(new JobSpec([attack], Tty: false), TimeSpan.FromSeconds(90));

        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal(
            "runner-environ:denied\nrunner-memory:denied\nspool:denied\nspools:denied\nhome:denied\nterminal:denied\nsignal:denied\nown-home:got-in\n",
            result.Text);
        await runner.Api.StopAsync(victim, new StopBody(), CancellationToken.None);
        await runner.PullToEndAsync(victim, TimeSpan.FromSeconds(90));
    }

    [SkippableFact]
    public async Task Job_InheritsNoDescriptorButItsTerminalOrPipe()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        // The test host holds many descriptors (sockets, files): none of them may reach the job. ls lists its own table
        // (what it inherited, plus 3: its handle on the directory it lists); the shell's own would show the pipe it is
        // still setting up for the pipeline.
        var result = await _runner!.RunAsync(new JobSpec(["ls /proc/self/fd | tr '\\n' ' '"], Tty: false), TimeSpan.FromSeconds(90));
        Assert.Equal("0 1 2 3\n", result.Text); // the stored line is trimmed of its trailing blank
    }

    private static async Task<string> WaitForLineAsync(RunnerHost runner, Guid jobId, string prefix)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var pull = await runner.Api.PullAsync(jobId, 0, CancellationToken.None);
            var text = Encoding.UTF8.GetString(pull.JobLogs.SelectMany(l => l.Message).ToArray());
            var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null)
            {
                return line;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} never wrote a line starting {prefix}: {text}");
            await Task.Delay(20);
        }
    }
}
