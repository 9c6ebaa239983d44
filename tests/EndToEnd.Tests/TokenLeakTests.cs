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
/// No token ever appears in a log line (issue #8): the server (with an external runner, and with its embedded one)
/// and a runner run as OS processes at the most verbose log level, go through a full job lifecycle and refuse
/// logins with a wrong token; none of the tokens, the wrong one included, appears in anything they print.
/// The one exception is SPEC §4's: a generated admin token is printed once at start-up.
/// </summary>
public sealed class TokenLeakTests
{
    private const string AdminToken = "admin-tok-7f3a9c1e5b2d4f60aa";
    private const string RunnerToken = "runner-tok-2b8e6d4c1a9f3e75bb";
    private const string WrongToken = "wrong-tok-9d1c7e3a5f2b8064cc";

    // Over 60 s beside a CPU hog (118.8 s in .ci/stress on 9915f14), with no fixed wait: a runner and a server start as
    // real processes, two jobs go through every endpoint (one is stopped), and 40 refused requests (5 wrong tokens
    // against 4 endpoints of each service, each through a new client) are answered before both stop and their output is
    // searched.
    [Fact]
    public async Task ExternalRunner_FullLifecycle_AndRefusedLogins_PrintNoToken()
    {
        await using var processes = new LoggedProcesses();
        var runnerPort = SystemProcesses.FreePort();
        processes.Start("Runner", new()
        {
            ["DSTACK_RUNNER_PORT"] = $"{runnerPort}",
            ["DSTACK_RUNNER_DIR"] = processes.TempDir(),
            ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
            ["DSTACK_RUNNER_WORK_DIR"] = processes.TempDir(),
        });
        var runner = new Uri($"http://127.0.0.1:{runnerPort}");
        await processes.WaitHealthyAsync(runner);
        var server = await StartServerAsync(processes, new()
        {
            ["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken,
            ["DSTACK_SERVER_RUNNERS"] = runner.ToString().TrimEnd('/'),
            ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
        });

        await LifecycleAsync(server, AdminToken);
        await RefusedLoginsAsync(server, runner);
        var output = await processes.StopAllAsync();

        AssertNoToken(output, AdminToken, RunnerToken, WrongToken);
    }

    // Over 60 s beside a CPU hog (76.9 s in .ci/stress on 9915f14), with no fixed wait: as the test above, with the
    // server's own runner (its isolation probes at start-up) in place of an external one.
    [Fact]
    public async Task EmbeddedRunner_GeneratedAdminToken_IsPrintedOnceAtStartUp_AndNowhereElse()
    {
        await using var processes = new LoggedProcesses();
        var dir = processes.TempDir();
        var server = await StartServerAsync(processes, new()
        {
            ["DSTACK_SERVER_DIR"] = dir,
            ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
        });
        var tokenFile = Path.Combine(dir, "admin-token");
        var generated = (await File.ReadAllTextAsync(tokenFile)).Trim();
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(tokenFile));
        }

        await LifecycleAsync(server, generated);
        await RefusedLoginsAsync(server, runner: null);
        var output = await processes.StopAllAsync();

        var printed = output.Where(l => l.Contains(generated, StringComparison.Ordinal)).ToList();
        Assert.True(printed.Count == 1, $"the generated token is in {printed.Count} lines:\n{string.Join('\n', printed)}");
        Assert.StartsWith("The admin token is ", printed[0], StringComparison.Ordinal);
        AssertNoToken([.. output.Where(l => l != printed[0])], generated, RunnerToken, WrongToken);
    }

    private static async Task<HttpClient> StartServerAsync(LoggedProcesses processes, Dictionary<string, string> settings)
    {
        var port = SystemProcesses.FreePort();
        settings.TryAdd("DSTACK_SERVER_DIR", processes.TempDir());
        settings.TryAdd("DSTACK_RUNNER_WORK_DIR", processes.TempDir());
        settings["DSTACK_SERVER_PORT"] = $"{port}";
        settings["DSTACK_SERVER_POLL_INTERVAL"] = "0.2";
        processes.Start("Server", settings);
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        await processes.WaitHealthyAsync(baseUri);
        return new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) };
    }

    /// <summary>Submit, follow, page and stream logs, stop, delete: every endpoint, with the right token.</summary>
    private static async Task LifecycleAsync(HttpClient server, string adminToken)
    {
        server.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);

        // The job prints its whole environment: the runner must not hand the tokens down to it either. It goes on only once
        // its first line is stored, so the logs are two events at least (for the paging below) however busy the machine.
        var gate = Path.Combine(Path.GetTempPath(), $"logquota-gate-{Guid.NewGuid():N}");
        RunDetails talky;
        try
        {
            await SubmitAsync(server, new SubmitRunRequest(["echo started", $"until [ -e {gate} ]; do sleep 0.05; done", "env", "echo finished"], RunName: "talky"));
            await WaitForTextAsync(server, "talky", "started\n");
            await File.WriteAllTextAsync(gate, "");
            talky = await WaitFinishedAsync(server, "talky");
        }
        finally
        {
            File.Delete(gate);
        }

        Assert.Equal(RunStatus.Done, talky.Status);
        var text = await server.GetStringAsync("/api/runs/talky/logs?format=text");
        Assert.Contains("finished", text, StringComparison.Ordinal);
        Assert.DoesNotContain(adminToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain(RunnerToken, text, StringComparison.Ordinal);
        var page = await server.GetFromJsonAsync<LogsResponse>("/api/runs/talky/logs?limit=1", LogQuotaJson.Options);
        Assert.NotNull(page!.NextToken);
        using (var next = await server.GetAsync($"/api/runs/talky/logs?limit=1&next_token={page.NextToken}"))
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        await SubmitAsync(server, new SubmitRunRequest(["sleep 60"], RunName: "sleepy"));
        await WaitAsync(server, "sleepy", r => r.Status == RunStatus.Running);
        using (var stop = await server.PostAsync("/api/runs/sleepy/stop", null))
        {
            Assert.Equal(HttpStatusCode.OK, stop.StatusCode);
        }

        Assert.Equal(RunStatus.Terminated, (await WaitFinishedAsync(server, "sleepy")).Status);
        Assert.Equal(2, (await server.GetFromJsonAsync<RunsPage>("/api/runs", LogQuotaJson.Options))!.Runs.Count);
        using var delete = await server.DeleteAsync("/api/runs/talky");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }

    /// <summary>A wrong token (and near misses of the right ones) against every kind of endpoint of both services.</summary>
    private static async Task RefusedLoginsAsync(HttpClient server, Uri? runner)
    {
        var presented = new[] { $"Bearer {WrongToken}", WrongToken, $"Basic {WrongToken}", $"Bearer {AdminToken}x", $"Bearer {RunnerToken[..^1]}" };
        foreach (var authorization in presented)
        {
            foreach (var (method, path) in new[] { ("GET", "/api/runs"), ("POST", "/api/runs"), ("GET", "/api/runs/sleepy/logs"), ("DELETE", "/api/runs/sleepy") })
            {
                await AssertRefusedAsync(server.BaseAddress!, method, path, authorization);
            }

            if (runner is not null)
            {
                var job = Guid.NewGuid();
                foreach (var (method, path) in new[] { ("POST", "/api/jobs"), ("GET", $"/api/jobs/{job}/pull?timestamp=0"), ("POST", $"/api/jobs/{job}/stop"), ("DELETE", $"/api/jobs/{job}") })
                {
                    await AssertRefusedAsync(runner, method, path, authorization);
                }
            }
        }
    }

    private static async Task AssertRefusedAsync(Uri baseUri, string method, string path, string authorization)
    {
        using var client = new HttpClient { BaseAddress = baseUri };
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (method == "POST")
        {
            request.Content = new StringContent("""{"commands": ["echo nope"]}""", Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private static void AssertNoToken(List<string> output, params string[] tokens)
    {
        // The capture works: the services' own lines about the runs are there.
        Assert.Contains(output, l => l.Contains("talky", StringComparison.Ordinal));
        foreach (var token in tokens)
        {
            var leaks = output.Where(l => l.Contains(token, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, $"a token was printed:\n{string.Join('\n', leaks)}");
        }
    }

    private static async Task SubmitAsync(HttpClient server, SubmitRunRequest request)
    {
        using var response = await server.PostAsJsonAsync("/api/runs", request, LogQuotaJson.Options);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private static async Task WaitForTextAsync(HttpClient server, string runName, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (!(await server.GetStringAsync($"/api/runs/{runName}/logs?format=text")).Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited 90 s for '{text.TrimEnd()}' in the logs of {runName}.");
            await Task.Delay(20);
        }
    }

    private static Task<RunDetails> WaitFinishedAsync(HttpClient server, string runName) =>
        WaitAsync(server, runName, r => r.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated);

    private static async Task<RunDetails> WaitAsync(HttpClient server, string runName, Func<RunDetails, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var run = (await server.GetFromJsonAsync<RunDetails>($"/api/runs/{runName}", LogQuotaJson.Options))!;
            if (done(run))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runName} is still {run.Status}");
            await Task.Delay(100);
        }
    }
}

/// <summary>
/// Built LogQuota services started as OS processes at log level Trace, every line they print kept; stopped with SIGTERM
/// (so shutdown lines are captured too) and removed with their directories on dispose.
/// </summary>
internal sealed class LoggedProcesses : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<string> _dirs = [];
    private readonly List<string> _lines = [];

    /// <param name="workingDirectory">Where the process starts; null: the test's own.</param>
    public void Start(string project, Dictionary<string, string> settings, string? workingDirectory = null)
    {
        var dll = Path.Combine(SystemProcesses.RepositoryRoot, "src", project, "bin", "Debug", "net10.0", $"LogQuota.{project}.dll");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
        {
            info.WorkingDirectory = workingDirectory;
        }

        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("DSTACK_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        // Everything at Trace, the categories the services quieten in code included (their HTTP clients log
        // request headers at Trace).
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.EntityFrameworkCore", "System.Net.Http.HttpClient", "Polly" })
        {
            info.Environment[$"Logging__LogLevel__{category}"] = "Trace";
        }

        // The JSON formatter writes every structured value of an entry, not only its message.
        info.Environment["Logging__Console__FormatterName"] = "json";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    public string TempDir()
    {
        var dir = Directory.CreateTempSubdirectory("logquota-leak-").FullName;
        _dirs.Add(dir);
        return dir;
    }

    public Task WaitHealthyAsync(Uri baseUri) => SystemProcesses.WaitHealthyAsync(
        baseUri,
        gaveUp: () => _processes.Any(p => p.HasExited),
        describe: () => $"processes said:\n{string.Join('\n', Lines())}");

    /// <summary>SIGTERMs every process, newest first, waits for it to exit and returns every line printed.</summary>
    public async Task<List<string>> StopAllAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes).Where(p => !p.HasExited))
        {
            using (var kill = Process.Start("kill", ["-TERM", $"{process.Id}"]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            await process.WaitForExitAsync(timeout.Token);
        }

        return Lines();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in Enumerable.Reverse(_processes))
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }

        foreach (var dir in _dirs)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private List<string> Lines()
    {
        lock (_lines)
        {
            return [.. _lines];
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            lock (_lines)
            {
                _lines.Add(line);
            }
        }
    }
}
