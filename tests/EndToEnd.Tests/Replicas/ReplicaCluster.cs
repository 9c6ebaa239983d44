using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Http.Headers;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests.Replicas;

/// <summary>
/// Real server replicas (built binaries, separate processes) on one PostgreSQL database, sharing real runners:
/// each replica can be SIGKILLed and started again on its port.
/// </summary>
public sealed class ReplicaCluster : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<string> _dirs = [];
    private readonly StringBuilder _output = new();
    private readonly List<(Uri Url, Dictionary<string, string> Env, Process? Process)> _replicas = [];
    private readonly List<HttpClient> _clients = [];

    /// <summary>What every process printed, for a failure's message.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The stdout and stderr of replica <paramref name="index"/>'s processes, all of its lives.</summary>
    public Dictionary<int, StringBuilder> ReplicaOutput { get; } = [];

    public int Count => _replicas.Count;

    /// <summary>An admin client of replica <paramref name="index"/>.</summary>
    public HttpClient Client(int index) => _clients[index];

    /// <summary>
    /// Starts <paramref name="runners"/> runners and <paramref name="replicas"/> replicas on <paramref name="databaseUrl"/>
    /// (all at once: a cold start), each replica pointed at every runner.
    /// </summary>
    public static async Task<ReplicaCluster> StartAsync(string databaseUrl, int replicas, int runners, Dictionary<string, string>? settings = null)
    {
        var cluster = new ReplicaCluster();
        try
        {
            var urls = new List<string>();
            for (var i = 0; i < runners; i++)
            {
                var port = SystemProcesses.FreePort();
                cluster.Start(-1, SystemProcesses.Dll("Runner"), new()
                {
                    ["DSTACK_RUNNER_PORT"] = $"{port}",
                    ["DSTACK_RUNNER_DIR"] = cluster.TempDir("runner"),
                    ["DSTACK_RUNNER_TOKEN"] = SystemProcesses.RunnerToken,
                    ["DSTACK_RUNNER_WORK_DIR"] = cluster.TempDir("work"),
                });
                urls.Add($"http://127.0.0.1:{port}");
            }

            foreach (var url in urls)
            {
                await cluster.WaitHealthyAsync(new Uri(url));
            }

            for (var i = 0; i < replicas; i++)
            {
                var port = SystemProcesses.FreePort();
                var env = new Dictionary<string, string>
                {
                    ["DSTACK_SERVER_PORT"] = $"{port}",
                    ["DSTACK_SERVER_DIR"] = cluster.TempDir("replica"),

                    // A replica with a local runner (no DSTACK_SERVER_RUNNERS) gives it a work directory of the test's own,
                    // never the shared default /var/lib/logquota/work.
                    ["DSTACK_RUNNER_WORK_DIR"] = cluster.TempDir("replica-work"),
                    ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
                    ["DSTACK_DATABASE_URL"] = databaseUrl,
                    ["DSTACK_SERVER_RUNNERS"] = string.Join(',', urls),
                    ["DSTACK_RUNNER_TOKEN"] = SystemProcesses.RunnerToken,
                    ["DSTACK_SERVER_POLL_INTERVAL"] = "0.2",
                    ["DSTACK_SERVER_JOB_LEASE"] = "2",
                    ["Logging__LogLevel__Default"] = "Warning",
                    ["Logging__LogLevel__LogQuota.Server.Data.DatabaseExtensions"] = "Information",

                    // The server turns tiering off for its ingest speed (src/Server/LogQuota.Server.csproj), which makes
                    // every start compile everything optimized; replicas starting together on two cores took a minute.
                    ["DOTNET_TieredCompilation"] = "1",
                };
                foreach (var (key, value) in settings ?? [])
                {
                    env[key] = value;
                }

                var url = new Uri($"http://127.0.0.1:{port}");
                cluster._replicas.Add((url, env, null));
                var client = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(60) };
                client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SystemProcesses.AdminToken);
                cluster._clients.Add(client);
            }

            for (var i = 0; i < replicas; i++)
            {
                cluster.StartReplica(i);
            }

            await Task.WhenAll(cluster._replicas.Select(r => cluster.WaitHealthyAsync(r.Url)));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The process id of replica <paramref name="index"/>'s current process (part of its lease owner name).</summary>
    public int ReplicaPid(int index) => _replicas[index].Process!.Id;

    /// <summary>SIGKILL: the replica dies between any two instructions, mid-pull included, releasing nothing.</summary>
    public async Task KillReplicaAsync(int index)
    {
        var process = _replicas[index].Process!;
        process.Kill();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
    }

    /// <summary>Starts replica <paramref name="index"/> again, on its port and directory, and waits until it answers.</summary>
    public async Task RestartReplicaAsync(int index)
    {
        StartReplica(index);
        await WaitHealthyAsync(_replicas[index].Url);
    }

    /// <summary>Waits (120 s at most) for the run <paramref name="runName"/> of <c>main</c> to end, asking replica <paramref name="client"/>.</summary>
    public async Task<RunDetails> WaitFinishedAsync(string runName, int client = 0)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var run = (await Client(client).GetFromJsonAsync<RunDetails>(new Uri($"/api/runs/{runName}", UriKind.Relative), LogQuotaJson.Options))!;
            if (run.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runName} still {run.Status}; processes said:\n{Output}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        // Replicas first, so nothing pulls any more; then the runners, whose jobs end with them.
        await HostCleanup.KillAndRemoveAsync(_processes, _dirs, TimeSpan.FromSeconds(90));
    }

    private void StartReplica(int index)
    {
        var (url, env, _) = _replicas[index];
        _replicas[index] = (url, env, Start(index, SystemProcesses.Dll("Server"), env));
    }

    private Process Start(int replica, string dll, Dictionary<string, string> env)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("DSTACK_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }

        foreach (var (key, value) in env)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info)!;
        StringBuilder? own = null;
        if (replica >= 0)
        {
            lock (_output)
            {
                own = ReplicaOutput.TryGetValue(replica, out var existing) ? existing : ReplicaOutput[replica] = new StringBuilder();
            }
        }

        void Append(string? line)
        {
            lock (_output)
            {
                _output.AppendLine(line);
                own?.AppendLine(line);
            }
        }

        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    private Task WaitHealthyAsync(Uri url) =>
        SystemProcesses.WaitHealthyAsync(url, gaveUp: () => false, describe: () => $"processes said:\n{Output}");

    private string TempDir(string name)
    {
        var dir = Directory.CreateTempSubdirectory($"logquota-replica-{name}-").FullName;
        _dirs.Add(dir);
        return dir;
    }
}
