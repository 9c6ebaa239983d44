using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>
/// The built server as a separate OS process, started as <c>dotnet run --project src/Server</c> starts it: no runner
/// configured, so it hosts its local runner, which under root gives every job a uid of its own. Optionally started as
/// an unprivileged user (<c>setpriv</c>, uid 65534). Stopped with SIGTERM, its directories removed, on dispose.
/// </summary>
public sealed class BuiltServer : IAsyncDisposable
{
    public const string AdminToken = "cli-e2e-admin-token-0123456789";
    public const uint Nobody = 65534;

    private readonly List<string> _dirs = [];
    private readonly StringBuilder _output = new();
    private Process _process = null!;

    private BuiltServer()
    {
    }

    public Uri Url { get; private set; } = null!;

    /// <summary>What the server printed so far, for assertion messages.</summary>
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

    /// <summary>The environment of a user whose CLI talks to this server.</summary>
    public IReadOnlyDictionary<string, string> CliEnvironment => new Dictionary<string, string>
    {
        ["DSTACK_SERVER_URL"] = Url.ToString(),
        ["DSTACK_TOKEN"] = AdminToken,
    };

    /// <summary>Why the server cannot be started <paramref name="asNobody"/> here, or null when it can.</summary>
    public static string? Unavailable(bool asNobody)
    {
        if (!File.Exists(ServerDll))
        {
            return $"the built server is missing ({ServerDll}): build the solution first";
        }

        if (asNobody && Environment.UserName != "root")
        {
            return "needs root to start the server as another, unprivileged user (CI runs as root)";
        }

        return asNobody && !File.Exists("/usr/bin/setpriv") ? "needs setpriv (util-linux) to start the server as nobody" : null;
    }

    /// <summary>Starts the server, as root or <paramref name="asNobody"/>, with <paramref name="settings"/> on top of the test defaults.</summary>
    public static async Task<BuiltServer> StartAsync(bool asNobody, IReadOnlyDictionary<string, string>? settings = null)
    {
        var server = new BuiltServer();
        try
        {
            await server.StartProcessAsync(asNobody, settings ?? new Dictionary<string, string>());
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public HttpClient CreateAdminHttpClient()
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    private static string ServerDll
    {
        get
        {
            var dir = AppContext.BaseDirectory;
            while (!File.Exists(Path.Combine(dir, "LogQuota.sln")))
            {
                dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("LogQuota.sln not found above the test assembly");
            }

            return Path.Combine(dir, "src", "Server", "bin", "Debug", "net10.0", "LogQuota.Server.dll");
        }
    }

    private async Task StartProcessAsync(bool asNobody, IReadOnlyDictionary<string, string> settings)
    {
        var serverDir = TempDir("server");

        // Jobs of other uids must reach their directories: the work directory lies below one that every uid may cross.
        var open = TempDir("work");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(open, (UnixFileMode)0b111_101_101);
        }
        var port = FreePort();
        var info = asNobody
            ? new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", "dotnet", "exec", ServerDll])
            : new ProcessStartInfo("dotnet", ["exec", ServerDll]);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        info.Environment["DSTACK_SERVER_PORT"] = $"{port}";
        info.Environment["DSTACK_SERVER_DIR"] = serverDir;
        info.Environment["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken;
        info.Environment["DSTACK_SERVER_POLL_INTERVAL"] = "0.2";
        info.Environment["DSTACK_RUNNER_WORK_DIR"] = Path.Combine(open, "work");
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        if (asNobody)
        {
            info.Environment["HOME"] = serverDir;
            Chown(serverDir, Nobody);
            Chown(open, Nobody);
        }

        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        _process = Process.Start(info)!;
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Url = new Uri($"http://127.0.0.1:{port}/");
        await WaitHealthyAsync();
    }

    private async Task WaitHealthyAsync()
    {
        using var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        // A loaded machine starts .NET slowly: at a load average of 60 on 2 cores a server took over 120 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        while (true)
        {
            try
            {
                using var response = await client.GetAsync(new Uri("api/healthcheck", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
            }

            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"the server at {Url} did not become healthy within 300 s; it said:\n{Output}");
            }

            await Task.Delay(100);
        }
    }

    private void Append(string? line)
    {
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private string TempDir(string name)
    {
        var dir = Directory.CreateTempSubdirectory($"logquota-cli-e2e-{name}-").FullName;
        _dirs.Add(dir);
        return dir;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Chown(string path, uint uid) => Assert.True(chown(path, uid, uid) == 0, $"chown {path} failed");

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, uint owner, uint group);

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            // SIGTERM: the server stops its local runner, which ends its jobs and removes their cgroups.
            using (var kill = Process.Start("kill", ["-s", "TERM", $"{_process.Id}"]))
            {
                await kill.WaitForExitAsync();
            }

            try
            {
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process?.Dispose();
        foreach (var dir in _dirs)
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }
}
