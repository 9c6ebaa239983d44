using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace LogQuota.Server.Bench;

/// <summary>
/// The real server, started from its built dll (src/Server/bin/&lt;configuration&gt;) as its own process, with a
/// temp directory for its SQLite file, the fake runner as its only runner, and the quota off.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    public const string AdminToken = "bench-admin-token";

    /// <summary>
    /// How long a starting server may take to answer its health check: 300 s, as every benchmark waits. It answers in a
    /// second or two when the machine is idle; at a load average of 55 it took more than 30 s, at 70 more than 90 s.
    /// </summary>
    private static readonly TimeSpan HealthWait = TimeSpan.FromSeconds(300);

    private readonly Process _process;
    private readonly string _logPath;
    private readonly StreamWriter _log;

    private ServerProcess(Process process, Uri baseUrl, string logPath, StreamWriter log)
    {
        _process = process;
        BaseUrl = baseUrl;
        _logPath = logPath;
        _log = log;
    }

    public Uri BaseUrl { get; }

    public int Pid => _process.Id;

    /// <param name="settings">More environment for the server (DSTACK_DATABASE_URL: the server directory's SQLite file unless given).</param>
    /// <param name="serverDll">Another build's LogQuota.Server.dll (a baseline); this checkout's when null.</param>
    public static async Task<ServerProcess> StartAsync(string dir, Uri runner, CancellationToken cancellationToken,
        IReadOnlyDictionary<string, string>? settings = null, string? serverDll = null)
    {
        var dll = serverDll ?? FindServerDll();
        var port = FreePort();
        var logPath = Path.Combine(dir, "server.log");
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "exec", dll },
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DSTACK_SERVER_HOST"] = "127.0.0.1";
        start.Environment["DSTACK_SERVER_PORT"] = port.ToString();
        start.Environment["DSTACK_SERVER_DIR"] = Path.Combine(dir, "server");
        start.Environment["DSTACK_DATABASE_URL"] = "";
        start.Environment["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken;
        start.Environment["DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR"] = "0";
        start.Environment["DSTACK_SERVER_RUNNERS"] = runner.ToString();
        start.Environment["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token;
        start.Environment["DSTACK_SERVER_POLL_INTERVAL"] = "0.05";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["DOTNET_gcServer"] = "0";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var log = new StreamWriter(logPath) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, new Uri($"http://127.0.0.1:{port}/"), logPath, log);
        try
        {
            await server.WaitHealthyAsync(cancellationToken);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        return server;
    }

    public HttpClient CreateClient() => new()
    {
        BaseAddress = BaseUrl,
        Timeout = TimeSpan.FromMinutes(5),
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", AdminToken) },
    };

    /// <summary>CPU time the server has used so far, user and system (from /proc, so it needs no cooperation).</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>The server's resident set now (VmRSS), in bytes.</summary>
    public long Rss() => ProcStatus(_process.Id, "VmRSS:");

    public string LogTail()
    {
        using var stream = new FileStream(_logPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var lines = reader.ReadToEnd().Split('\n');
        return string.Join('\n', lines.TakeLast(30));
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.WaitForExit();
        _process.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        using var client = CreateClient();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with {_process.ExitCode}:\n{LogTail()}");
            }

            try
            {
                using var response = await client.GetAsync(new Uri("api/healthcheck", UriKind.Relative), cancellationToken);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > HealthWait)
            {
                throw new TimeoutException($"The server did not answer its health check within {HealthWait.TotalSeconds} s:\n{LogTail()}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    /// <summary>src/Server/bin/&lt;configuration&gt;/net10.0/LogQuota.Server.dll of this checkout, built with this benchmark.</summary>
    private static string FindServerDll()
    {
        var configuration = Path.GetFileName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!);
        var framework = Path.GetFileName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory));
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "LogQuota.sln")))
            {
                var dll = Path.Combine(dir.FullName, "src", "Server", "bin", configuration, framework, "LogQuota.Server.dll");
                return File.Exists(dll) ? dll : throw new FileNotFoundException($"The server is not built: {dll}");
            }
        }

        throw new DirectoryNotFoundException($"No LogQuota.sln above {AppContext.BaseDirectory}.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static long ProcStatus(int pid, string field)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0]) * 1024;
            }
        }

        return 0;
    }

    private static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.WriteLine(line);
        }
    }
}
