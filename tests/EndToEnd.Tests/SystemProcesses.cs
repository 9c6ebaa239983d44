using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// The built server and runners started as separate OS processes on free loopback ports, talked to
/// only over HTTP. Everything it starts (processes, directories) is removed on dispose, also after a failure.
/// </summary>
public sealed class SystemProcesses : IAsyncDisposable
{
    public const string AdminToken = "e2e-admin-token-0123456789";
    public const string RunnerToken = "e2e-runner-token-0123456789";

    private readonly List<Process> _processes = [];
    private readonly List<string> _dirs = [];
    private readonly List<(Uri Url, Dictionary<string, string> Env, Process Process)> _runners = [];
    private readonly StringBuilder _output = new();
    private string[] _serverArgs = [];
    private Dictionary<string, string> _serverEnv = [];
    private Process? _server;
    private string[] _runnerLauncher = [];

    /// <summary>What the processes printed so far (their output handlers append concurrently).</summary>
    private string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The runner processes, in start order.</summary>
    public IEnumerable<Process> Runners => _processes.Where(p => p != _server);

    /// <summary>The base URLs of the runners, in start order.</summary>
    public IReadOnlyList<Uri> RunnerUrls => [.. _runners.Select(r => r.Url)];

    /// <summary>The runner process that currently listens on runner <paramref name="index"/>'s port.</summary>
    public Process Runner(int index) => _runners[index].Process;

    /// <summary>The server's data directory (<c>DSTACK_SERVER_DIR</c>).</summary>
    public string ServerDir => _serverEnv["DSTACK_SERVER_DIR"];

    /// <summary>Runner <paramref name="index"/>'s directory (<c>DSTACK_RUNNER_DIR</c>).</summary>
    public string RunnerDir(int index) => _runners[index].Env["DSTACK_RUNNER_DIR"];

    /// <summary>The server's local runner's work directory (<c>DSTACK_RUNNER_WORK_DIR</c> in the server's environment).</summary>
    public string ServerWorkDir => _serverEnv["DSTACK_RUNNER_WORK_DIR"];

    /// <summary>The server process.</summary>
    public Process ServerProcess => _server!;

    /// <summary>A client of runner <paramref name="index"/>'s own API, with the runner token.</summary>
    public HttpClient RunnerClient(int index)
    {
        var client = new HttpClient { BaseAddress = _runners[index].Url, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", RunnerToken);
        return client;
    }

    /// <summary>Sends <paramref name="signal"/> (TERM, STOP, CONT, ...) to <paramref name="process"/> alone, not its children.</summary>
    public static async Task SignalAsync(Process process, string signal)
    {
        using var kill = Process.Start("kill", ["-s", signal, $"{process.Id}"]);
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Starts runner <paramref name="index"/> again on the same port and directory, once its previous process has exited.</summary>
    public async Task RestartRunnerAsync(int index)
    {
        var (url, env, previous) = _runners[index];
        await previous.WaitForExitAsync();
        _runners[index] = (url, env, Start(["exec", Dll("Runner")], env, _runnerLauncher));
        await WaitHealthyAsync(url, this, allowExited: true);
    }

    /// <summary>
    /// Starts one more runner process the server was not told about (for adding it at run time), with the runner token and
    /// <paramref name="settings"/>; returns its index for <see cref="Runner"/> and <see cref="RunnerUrls"/>.
    /// </summary>
    public async Task<int> StartDetachedRunnerAsync(Dictionary<string, string>? settings = null)
    {
        var env = new Dictionary<string, string>
        {
            ["DSTACK_RUNNER_PORT"] = $"{FreePort()}",
            ["DSTACK_RUNNER_DIR"] = TempDir("runner"),
            ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
            ["DSTACK_RUNNER_WORK_DIR"] = TempDir("work"),
        };
        foreach (var (key, value) in settings ?? [])
        {
            env[key] = value;
        }

        var url = new Uri($"http://127.0.0.1:{env["DSTACK_RUNNER_PORT"]}");
        _runners.Add((url, env, Start(["exec", Dll("Runner")], env, _runnerLauncher)));
        await WaitHealthyAsync(url, this);
        return _runners.Count - 1;
    }

    /// <summary>Sends SIGTERM to the server and waits until it has exited; returns its exit code.</summary>
    public async Task<int> TerminateServerAsync()
    {
        await SignalAsync(_server!, "TERM");
        await _server!.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _server.ExitCode;
    }

    /// <summary>Starts the server again on the same directory and port, after it exited.</summary>
    public async Task StartServerAgainAsync()
    {
        Assert.True(_server!.HasExited, "the server is still running");
        _server = Start(_serverArgs, _serverEnv);
        await WaitHealthyAsync(Server.BaseAddress!, this, allowExited: true);
    }

    /// <summary>
    /// The live processes that carry <paramref name="jobId"/>'s marker (<c>DSTACK_JOB_ID</c>, set by the runner on every job
    /// and inherited by all its descendants that keep their environment).
    /// </summary>
    public static List<int> ProcessesOfJob(Guid jobId)
    {
        var marker = Encoding.ASCII.GetBytes($"DSTACK_JOB_ID={jobId}\0");
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var state = File.ReadAllText($"/proc/{pid}/stat");
                if (state[(state.LastIndexOf(')') + 2)..].StartsWith('Z'))
                {
                    continue;
                }

                var environ = File.ReadAllBytes($"/proc/{pid}/environ");
                if (environ.AsSpan().IndexOf(marker) >= 0)
                {
                    found.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    /// <summary>Everything the processes printed so far, for assertion messages.</summary>
    public string ProcessOutput => Output;

    /// <summary>SIGKILLs the server process (no shutdown of any kind) and starts it again on the same directory and port.</summary>
    public async Task KillAndRestartServerAsync()
    {
        _server!.Kill();
        await _server.WaitForExitAsync();
        _server = Start(_serverArgs, _serverEnv);
        await WaitHealthyAsync(Server.BaseAddress!, this, allowExited: true);
    }

    public HttpClient Server { get; private set; } = null!;

    public static string RepositoryRoot
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(dir, "LogQuota.sln")))
            {
                dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("LogQuota.sln not found above the test assembly");
            }

            return dir;
        }
    }

    /// <summary>The built <c>LogQuota.{project}.dll</c> (Debug), as <c>bash .ci/run</c> leaves it.</summary>
    public static string Dll(string project) =>
        Path.Combine(RepositoryRoot, "src", project, "bin", "Debug", "net10.0", $"LogQuota.{project}.dll");

    /// <summary>Starts <paramref name="runners"/> runners and a server pointed at them (none: the server's embedded runner).</summary>
    /// <param name="runnerLauncher">A command the runners are started through (it runs <c>dotnet</c> and its arguments), e.g. to unmount cgroup2 in a mount namespace of their own.</param>
    public static async Task<SystemProcesses> StartAsync(int runners, long quota = 52428800, bool viaDotnetRun = false,
        Dictionary<string, string>? serverSettings = null, Dictionary<string, string>? runnerSettings = null, string[]? runnerLauncher = null)
    {
        var system = new SystemProcesses { _runnerLauncher = runnerLauncher ?? [] };
        try
        {
            var urls = new List<string>();
            for (var i = 0; i < runners; i++)
            {
                var port = FreePort();
                var runnerEnv = new Dictionary<string, string>
                {
                    ["DSTACK_RUNNER_PORT"] = $"{port}",
                    ["DSTACK_RUNNER_DIR"] = system.TempDir("runner"),
                    ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
                    // The jobs' directories: a temp directory of the test's own, never the shared default.
                    ["DSTACK_RUNNER_WORK_DIR"] = system.TempDir("work"),
                };
                foreach (var (key, value) in runnerSettings ?? [])
                {
                    runnerEnv[key] = value;
                }

                var runner = system.Start(["exec", Dll("Runner")], runnerEnv, system._runnerLauncher);
                urls.Add($"http://127.0.0.1:{port}");
                system._runners.Add((new Uri(urls[^1]), runnerEnv, runner));
                await WaitHealthyAsync(new Uri(urls[^1]), system);
            }

            var serverPort = FreePort();
            var serverEnv = new Dictionary<string, string>
            {
                ["DSTACK_SERVER_PORT"] = $"{serverPort}",
                ["DSTACK_SERVER_DIR"] = system.TempDir("server"),
                ["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken,
                ["DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR"] = $"{quota}",
                ["DSTACK_SERVER_RUNNERS"] = string.Join(',', urls),
                ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
                ["DSTACK_SERVER_POLL_INTERVAL"] = "0.2",
                ["DSTACK_RUNNER_WORK_DIR"] = system.TempDir("work"),
            };
            foreach (var (key, value) in serverSettings ?? [])
            {
                serverEnv[key] = value;
            }

            system._serverArgs = viaDotnetRun
                ? ["run", "--no-build", "--project", Path.Combine(RepositoryRoot, "src", "Server")]
                : ["exec", Dll("Server")];
            system._serverEnv = serverEnv;
            system._server = system.Start(system._serverArgs, serverEnv);
            var baseUri = new Uri($"http://127.0.0.1:{serverPort}");
            await WaitHealthyAsync(baseUri, system);
            system.Server = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
            system.Server.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    public async Task<RunDetails> SubmitAsync(SubmitRunRequest request)
    {
        using var response = await Server.PostAsJsonAsync("/api/runs", request, LogQuotaJson.Options);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RunDetails>(LogQuotaJson.Options))!;
    }

    public async Task<RunDetails> WaitFinishedAsync(string runName, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var run = (await Server.GetFromJsonAsync<RunDetails>($"/api/runs/{runName}", LogQuotaJson.Options))!;
            if (run.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated)
            {
                return run;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"run {runName} still {run.Status}; processes said:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The stored log as text: by default the job's own output (<c>source=job</c>), without the runner's markers.</summary>
    public async Task<byte[]> LogTextAsync(string runName, string source = "job") =>
        await Server.GetByteArrayAsync($"/api/runs/{runName}/logs?format=text&source={source}");

    private Process Start(string[] args, Dictionary<string, string> env, string[]? launcher = null)
    {
        launcher = launcher is { Length: > 0 } ? [.. launcher, "dotnet"] : ["dotnet"];
        var info = new ProcessStartInfo(launcher[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in launcher[1..].Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        if (!env.ContainsKey("Logging__LogLevel__Default"))
        {
            info.Environment["Logging__LogLevel__Default"] = "Warning";
        }
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (_output) { _output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private string TempDir(string name)
    {
        var dir = Directory.CreateTempSubdirectory($"logquota-e2e-{name}-").FullName;
        _dirs.Add(dir);
        return dir;
    }

    /// <summary>A port that was free a moment ago on loopback.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Task WaitHealthyAsync(Uri baseUri, SystemProcesses system, bool allowExited = false) =>
        WaitHealthyAsync(
            baseUri,
            gaveUp: () => !allowExited && system._processes.Any(p => p.HasExited),
            describe: () => $"processes said:\n{system.Output}");

    /// <summary>
    /// Polls <c>/api/healthcheck</c> until it answers 2xx; throws after 300 s (a loaded machine starts .NET slowly: at a load average of 60 on 2 cores a server took over 120 s), or as soon as <paramref name="gaveUp"/>
    /// says a process it depends on has exited, with <paramref name="describe"/>'s text.
    /// </summary>
    public static async Task WaitHealthyAsync(Uri baseUri, Func<bool> gaveUp, Func<string> describe)
    {
        using var client = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(10) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync("/api/healthcheck");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline || gaveUp())
            {
                throw new InvalidOperationException($"{baseUri} did not answer /api/healthcheck with 2xx within 300 s; {describe()}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Server?.Dispose();
        // Server first, so it stops pulling; then the runners (SIGKILLed: their cgroups are removed after them).
        await HostCleanup.KillAndRemoveAsync(_processes, _dirs, TimeSpan.FromSeconds(90));
    }
}
