using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LogQuota.EndToEnd.Tests.Compose;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Xunit.Abstractions;
using static LogQuota.EndToEnd.Tests.Compose.ComposeRuns;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// The product as <c>docker-compose.yml</c> delivers it: both images built from the repository's Dockerfiles, the
/// stack brought up by <c>docker compose</c> from the shipped file (plus <c>Compose/compose.test.yml</c>: a free
/// loopback port, a 10 s unreachable timeout, the server quota as a variable, the cgroup profile), then the seed's test
/// plan, a per-run quota, a stop, the runners' isolation, the CLI, a runner container killed, the server container
/// killed and started again, the quota disabled, the runners rebuilt on <c>python:3.12-slim</c> running a Python job
/// (<c>docker-compose.python.yml</c>), and at the end every container, network, volume and image of the
/// project removed (asserted). One test, since building the images and bringing the stack up once is most of its time.
/// Needs a Docker engine with API 1.44+, the Compose v2 plugin and the image <c>python:3.12-slim</c>; else it is skipped
/// with the reason (<see cref="ComposeProject.WhyUnavailableAsync"/>). Every wait has a deadline.
/// </summary>
public sealed partial class DockerComposeStackTests(ITestOutputHelper log)
{
    // Over 60 s: it builds the product's images and starts the whole compose stack (about 6 min cold, README
    // "Run with Docker"); one test, so the stack is built and started once.
    [SkippableFact]
    public async Task ComposeFile_RunsTheProduct_AndTheTestLeavesNothingBehind()
    {
        var whyNot = await ComposeProject.WhyUnavailableAsync(PythonBase);
        Skip.If(whyNot is not null, whyNot);

        await ComposeProject.RunAsync(log, [], TimeSpan.FromMinutes(25), async (stack, ct) =>
        {
            await Step("loopback only; health checks log nothing", () => HealthChecksLogNothing(stack, ct));
            await Step("isolation in the runner containers", () => RunnersAreRootWithAUidPerJob(stack, ct));
            await Step("cgroup profile", () => CgroupProfile(stack, ct));
            await Step("1000-byte quota", () => Quota1000(stack, ct));
            await Step("5 MiB against a fast writer", () => FiveMiB(stack, ct));
            await Step("per-run quota", () => PerRunQuota(stack, ct));
            await Step("two runners, ten runs", () => TwoRunnersTenRuns(stack, ct));
            await Step("stop", () => Stop(stack, ct));
            await Step("the CLI", () => Cli(stack, ct));
            await Step("server container killed and started", () => ServerKilledAndStarted(stack, ct));
            await Step("runner container killed", () => RunnerKilled(stack, ct));
            await Step("quota 0", () => QuotaZero(stack, ct));
            await Step("runners on python:3.12-slim", () => PythonRunners(stack, ct));
        });
    }

    private Task Step(string name, Func<Task> body) => StepAsync(log, name, body);

    /// <summary>
    /// The shipped file publishes the server on 127.0.0.1:3000 only. An idle stack for longer than one health-check interval: every container's health check ran (Docker's record
    /// of it), and none of the three services printed a line meanwhile.
    /// </summary>
    private static async Task HealthChecksLogNothing(ComposeProject stack, CancellationToken ct)
    {
        // The plain-HTTP admin API never leaves loopback as shipped (README, threat model).
        var port = Assert.Single((await stack.ShippedServerPortsAsync(ct)).EnumerateArray());
        Assert.Equal("127.0.0.1", port.GetProperty("host_ip").GetString());
        Assert.Equal("3000", port.GetProperty("published").GetString());

        var since = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(12), ct);
        var logs = await stack.ComposeAsync(TimeSpan.FromSeconds(60), ct, "logs", "--no-color", "--since", since.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture), "server", "runner-1", "runner-2");
        Assert.True(logs.Stdout.Trim().Length == 0, $"the idle stack logged:\n{logs.Stdout}");
        foreach (var service in new[] { "server", "runner-1", "runner-2" })
        {
            var id = (await stack.ComposeAsync(TimeSpan.FromSeconds(30), ct, "ps", "-q", service)).Stdout.Trim();
            var health = await Command.RunAsync("docker", ["inspect", "--format", "{{json .State.Health}}", id], TimeSpan.FromSeconds(30), ct: ct);
            using var json = JsonDocument.Parse(health.EnsureSuccess().Stdout);
            Assert.Equal("healthy", json.RootElement.GetProperty("Status").GetString());
            Assert.Contains(json.RootElement.GetProperty("Log").EnumerateArray(), check => check.GetProperty("Start").GetDateTimeOffset() > since && check.GetProperty("ExitCode").GetInt32() == 0);
        }
    }

    /// <summary>Both runners run as root with a uid per job; Docker's defaults allow only the process scan.</summary>
    private static async Task RunnersAreRootWithAUidPerJob(ComposeProject stack, CancellationToken ct)
    {
        foreach (var runner in new[] { "runner-1", "runner-2" })
        {
            var isolation = (await stack.RunnerHealthAsync(runner, ct)).GetProperty("isolation");
            Assert.Equal("per_job", isolation.GetProperty("users").GetString());
            Assert.Equal("process_scan", isolation.GetProperty("kill").GetString());
        }

        // A job sees its own uid and home, and cannot read the token in any process's environment (the runner's,
        // tini's): /proc/PID/environ of root's processes is closed to it.
        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(
            ["id -u; id -g; stat -c %u \"$HOME\"; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '^DSTACK_RUNNER_TOKEN=' || true"],
            RunName: "whoami"), ct);
        var run = await WaitFinished(server, "whoami", ct);
        Assert.Equal(RunStatus.Done, run.Status);
        var lines = (await LogText(server, "whoami", ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var uid = int.Parse(lines[0], CultureInfo.InvariantCulture);
        Assert.InRange(uid, 200000, 299999);
        Assert.Equal(lines[0], lines[1]);
        Assert.Equal(lines[0], lines[2]);
        Assert.Equal("0", lines[3]);
    }

    /// <summary>
    /// The setting docker-compose.yml documents for cgroup mode (<c>cgroup: private</c>, <c>privileged: true</c>), on the
    /// runner image: cgroup mode on a cgroup v2 host; on a cgroup v1 host (no cgroup2 to delegate) the privilege still
    /// gives the PID namespace.
    /// </summary>
    private async Task CgroupProfile(ComposeProject stack, CancellationToken ct)
    {
        var info = await Command.RunAsync("docker", ["info", "--format", "{{.CgroupVersion}}"], TimeSpan.FromSeconds(30), ct: ct);
        var cgroupVersion = info.EnsureSuccess().Stdout.Trim();
        await stack.UpAsync(["cgroup"], ["runner-cgroup"], ct);
        var isolation = (await stack.RunnerHealthAsync("runner-cgroup", ct)).GetProperty("isolation");
        log.WriteLine($"cgroup profile on a cgroup v{cgroupVersion} host: {isolation}");
        Assert.Equal(cgroupVersion == "2" ? "cgroup" : "pid_namespace", isolation.GetProperty("kill").GetString());
        Assert.Equal("per_job", isolation.GetProperty("users").GetString());
        await stack.ComposeAsync(TimeSpan.FromSeconds(60), ct, "--profile", "cgroup", "rm", "-f", "-s", "runner-cgroup");
    }

    private static async Task Quota1000(ComposeProject stack, CancellationToken ct)
    {
        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(["seq 1 100000; sleep 60"], RunName: "chatty", LogQuotaHour: 1000), ct);

        var run = await WaitFinished(server, "chatty", ct);

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("error", run.StatusMessage);
        Assert.Equal("log quota exceeded", run.Error);
        Assert.Equal(1000, run.Jobs[0].JobSpec.LogQuotaHour);
        var all = string.Concat(Enumerable.Range(1, 1000).Select(i => $"{i}\n"));
        Assert.Equal(all[..(all[..1000].LastIndexOf('\n') + 1)], await LogText(server, "chatty", ct));
    }

    private static async Task FiveMiB(ComposeProject stack, CancellationToken ct)
    {
        const long quota = 5 * 1024 * 1024;
        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(["seq -w 1 9999999"], RunName: "fast", LogQuotaHour: quota), ct);

        var run = await WaitFinished(server, "fast", ct);
        var text = await server.GetByteArrayAsync(new Uri("/api/runs/fast/logs?format=text&source=job", UriKind.Relative), ct);

        Assert.Equal(TerminationReason.LogQuotaExceeded, run.TerminationReason);
        const int lineLength = 8; // "0000001\n"
        Assert.InRange(text.Length, quota - lineLength + 1, quota);
        Assert.Equal(0, text.Length % lineLength);
        var lines = Encoding.ASCII.GetString(text).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < lines.Length; i++)
        {
            Assert.Equal((i + 1).ToString("D7", CultureInfo.InvariantCulture), lines[i]);
        }
    }

    /// <summary>The compose file's 50 MiB is the default and the ceiling: more is refused naming both numbers, less is used.</summary>
    private static async Task PerRunQuota(ComposeProject stack, CancellationToken ct)
    {
        using var server = stack.ServerClient();
        using (var refused = await server.PostAsJsonAsync("/api/runs", new SubmitRunRequest(["true"], RunName: "too-much", LogQuotaHour: 52428801), LogQuotaJson.Options, ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var detail = await refused.Content.ReadAsStringAsync(ct);
            Assert.Contains("52428801", detail, StringComparison.Ordinal);
            Assert.Contains("50MiB", detail, StringComparison.Ordinal); // the ceiling, in the unit it was set in
        }

        await Submit(server, new SubmitRunRequest(["echo default"], RunName: "default-quota"), ct);
        await Submit(server, new SubmitRunRequest(["echo lower"], RunName: "lower-quota", LogQuotaHour: 4096), ct);
        Assert.Equal(52428800, (await WaitFinished(server, "default-quota", ct)).Jobs[0].JobSpec.LogQuotaHour);
        var lower = await WaitFinished(server, "lower-quota", ct);
        Assert.Equal(4096, lower.Jobs[0].JobSpec.LogQuotaHour);
        Assert.Equal(4096, lower.LogQuotaHour);
        Assert.Equal("lower\n", await LogText(server, "lower-quota", ct));
    }

    private static async Task TwoRunnersTenRuns(ComposeProject stack, CancellationToken ct)
    {
        using var server = stack.ServerClient();
        for (var i = 0; i < 10; i++)
        {
            var command = (i % 3) switch
            {
                0 => $"echo run {i}; sleep 1",
                1 => $"echo run {i}; sleep 1; exit {i}",
                _ => "sleep 1; yes",
            };
            await Submit(server, new SubmitRunRequest([command], RunName: $"spread-{i}", LogQuotaHour: 1000), ct);
        }

        var runners = new HashSet<string>();
        for (var i = 0; i < 10; i++)
        {
            var run = await WaitFinished(server, $"spread-{i}", ct);
            runners.Add(new Uri(run.Jobs[0].Runner!).Host);
            switch (i % 3)
            {
                case 0:
                    Assert.Equal(RunStatus.Done, run.Status);
                    Assert.Equal($"run {i}\n", await LogText(server, $"spread-{i}", ct));
                    break;
                case 1:
                    Assert.Equal(RunStatus.Failed, run.Status);
                    Assert.Equal($"exited ({i})", run.StatusMessage);
                    break;
                default:
                    Assert.Equal("log quota exceeded", run.Error);
                    break;
            }
        }

        Assert.Equal(["runner-1", "runner-2"], runners.Order(StringComparer.Ordinal));
    }

    private static async Task Stop(ComposeProject stack, CancellationToken ct)
    {
        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(["echo going to sleep; sleep 300"], RunName: "sleeper"), ct);
        await WaitFor(server, "sleeper", r => r.Status == RunStatus.Running && r.LogBytesHour > 0, ct);

        using (var stop = await server.PostAsync(new Uri("/api/runs/sleeper/stop", UriKind.Relative), null, ct))
        {
            stop.EnsureSuccessStatusCode();
        }

        var run = await WaitFinished(server, "sleeper", ct);
        Assert.Equal(RunStatus.Terminated, run.Status);
        Assert.Equal("stopped", run.StatusMessage);
        Assert.Equal(TerminationReason.TerminatedByUser, run.TerminationReason);
        Assert.Equal("going to sleep\n", await LogText(server, "sleeper", ct));
    }

    /// <summary>The real CLI (the built <c>logquota.dll</c>) against the stack's published port.</summary>
    private static async Task Cli(ComposeProject stack, CancellationToken ct)
    {
        var run = await Logquota(stack, ct, "run", "--name", "cli-chatty", "--log-quota", "1000", "--", "seq 1 100000; sleep 60");
        Assert.True(run.ExitCode == 1, run.ToString());
        var all = string.Concat(Enumerable.Range(1, 1000).Select(i => $"{i}\n"));
        var kept = all[..(all[..1000].LastIndexOf('\n') + 1)];
        Assert.Equal(kept, run.Stdout);
        Assert.EndsWith("run cli-chatty failed: log quota exceeded (Job log output exceeded the hourly quota of 1000 bytes)\n", run.Stderr, StringComparison.Ordinal);

        var ps = await Logquota(stack, ct, "ps", "-a", "-v");
        Assert.True(ps.ExitCode == 0, ps.ToString());
        var row = ps.Stdout.Split('\n').Single(l => l.StartsWith("cli-chatty ", StringComparison.Ordinal));
        Assert.Contains(" log quota exceeded ", row, StringComparison.Ordinal);

        var logs = await Logquota(stack, ct, "logs", "cli-chatty", "--source", "job");
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal(kept, logs.Stdout);

        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(["sleep 300"], RunName: "cli-sleeper"), ct);
        await WaitFor(server, "cli-sleeper", r => r.Status == RunStatus.Running, ct);
        var stop = await Logquota(stack, ct, "stop", "cli-sleeper");
        Assert.True(stop.ExitCode == 0, stop.ToString());
        Assert.Equal("stopped", (await WaitFinished(server, "cli-sleeper", ct)).StatusMessage);

        var badToken = await Command.RunAsync("dotnet", [CliDll, "--url", stack.ServerUrl.ToString(), "--token", "not-the-admin-token-000", "ps"], TimeSpan.FromSeconds(60), ct: ct);
        Assert.Equal(1, badToken.ExitCode);
        Assert.StartsWith("error: ", badToken.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// SIGKILL of the server container while a job writes a numbered line every few milliseconds, then a start of the
    /// same container: its volume keeps the database, and the job's log has every line once, in order (SPEC §6).
    /// </summary>
    private static async Task ServerKilledAndStarted(ComposeProject stack, CancellationToken ct)
    {
        const int count = 2000;
        using (var server = stack.ServerClient())
        {
            await Submit(server, new SubmitRunRequest([$"for i in $(seq 1 {count}); do echo \"line $i\"; sleep 0.003; done"], RunName: "steady"), ct);
            await WaitFor(server, "steady", r => r.LogBytesHour > 1000, ct);
        }

        await stack.KillAsync("server", ct);
        await stack.StartServerAgainAsync(ct);

        using var again = stack.ServerClient();
        var run = await WaitFinished(again, "steady", ct);
        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Equal(string.Concat(Enumerable.Range(1, count).Select(i => $"line {i}\n")), await LogText(again, "steady", ct));
        // What was there before the kill is still there.
        Assert.Equal("log quota exceeded", (await Details(again, "chatty", ct)).Error);
    }

    /// <summary>SIGKILL of the runner container that holds a job: after the 10 s timeout the job is <c>instance unreachable</c>, its logs kept.</summary>
    private static async Task RunnerKilled(ComposeProject stack, CancellationToken ct)
    {
        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(["echo before the runner died; sleep 300"], RunName: "orphan"), ct);
        var running = await WaitFor(server, "orphan", r => r.Status == RunStatus.Running && r.LogBytesHour > 0, ct);
        var service = new Uri(running.Jobs[0].Runner!).Host;

        await stack.KillAsync(service, ct);

        var run = await WaitFinished(server, "orphan", ct);
        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.Equal("error", run.StatusMessage);
        Assert.Equal("instance unreachable", run.Error);
        Assert.Equal(TerminationReason.InstanceUnreachable, run.TerminationReason);
        Assert.Contains(run.Events, e => e.Type == "runner_unreachable");
        Assert.Equal("before the runner died\n", await LogText(server, "orphan", ct));

        // The other runner takes the next job, and the killed one comes back healthy.
        await Submit(server, new SubmitRunRequest(["echo still served"], RunName: "after-kill"), ct);
        Assert.Equal(RunStatus.Done, (await WaitFinished(server, "after-kill", ct)).Status);
        await stack.UpAsync([], [service], ct);
    }

    /// <summary>The server recreated with <c>DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR=0</c>: 10 MB stored byte for byte.</summary>
    private static async Task QuotaZero(ComposeProject stack, CancellationToken ct)
    {
        await stack.RecreateServerAsync(quota: 0, ct);
        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(["yes \"$(printf '%099d' 0 | tr 0 b)\" | head -n 100000"], RunName: "big", Tty: false), ct);

        var run = await WaitFinished(server, "big", ct);
        var text = await server.GetByteArrayAsync(new Uri("/api/runs/big/logs?format=text&source=job", UriKind.Relative), ct);

        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Null(run.LogQuotaHour);
        var line = Encoding.ASCII.GetBytes(new string('b', 99) + "\n");
        Assert.Equal(10_000_000, text.Length);
        for (var offset = 0; offset < text.Length; offset += line.Length)
        {
            Assert.True(text.AsSpan(offset, line.Length).SequenceEqual(line), $"line at byte {offset} differs");
        }

        Assert.Equal("log quota exceeded", (await Details(server, "chatty", ct)).Error);
    }

    private static Task<CommandResult> Logquota(ComposeProject stack, CancellationToken ct, params string[] args) =>
        Command.RunAsync("dotnet", [CliDll, .. args], TimeSpan.FromSeconds(150),
            new Dictionary<string, string?> { ["DSTACK_SERVER_URL"] = stack.ServerUrl.ToString().TrimEnd('/'), ["DSTACK_TOKEN"] = ComposeProject.AdminToken, ["NO_COLOR"] = "1" }, ct);

    private static string CliDll => Path.Combine(SystemProcesses.RepositoryRoot, "src", "Cli", "bin", "Debug", "net10.0", "logquota.dll");
}
