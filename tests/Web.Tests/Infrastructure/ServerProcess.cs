using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>
/// The built server (<c>src/Server/bin/Debug</c>, as <c>dotnet build</c> leaves it) as an OS process of its own, so
/// its resident memory is its own and nothing of the test's: for the figures. Stopped with SIGTERM, which ends its
/// jobs and its embedded runner cleanly; killed with its tree if it does not exit in time.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private ServerProcess(Process process, string dir, Uri url)
    {
        _process = process;
        _dir = dir;
        Url = url;
    }

    public Uri Url { get; }

    public int Pid => _process.Id;

    /// <summary>Why the built server cannot be started here, or null.</summary>
    public static string? Unavailable() =>
        File.Exists(Dll) ? null : $"the server is not built at {Dll} (dotnet build LogQuota.sln)";

    private static string Repository
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "LogQuota.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("LogQuota.sln not found above the test output.");
        }
    }

    private static string Dll => Path.Combine(Repository, "src", "Server", "bin", "Debug", "net10.0", "LogQuota.Server.dll");

    public static async Task<ServerProcess> StartAsync()
    {
        var dir = Directory.CreateTempSubdirectory("logquota-web-figure-").FullName;
        var port = FreePort();

        // The project directory is the content root, as for dotnet run: the page's wwwroot is there.
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.Combine(Repository, "src", "Server"), UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Dll);
        info.Environment["DSTACK_SERVER_DIR"] = dir;
        info.Environment["DSTACK_SERVER_PORT"] = port.ToString(CultureInfo.InvariantCulture);
        info.Environment["DSTACK_SERVER_ADMIN_TOKEN"] = WebServer.AdminToken;
        info.Environment["DSTACK_SERVER_RUNNERS"] = "";
        info.Environment["DSTACK_RUNNER_WORK_DIR"] = dir + "-work";
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new ServerProcess(process, dir, new Uri($"http://127.0.0.1:{port}/"));
        using var http = new HttpClient { BaseAddress = server.Url, Timeout = TimeSpan.FromSeconds(30) };
        // A loaded machine starts .NET slowly: at a load average of 60 on 2 cores a server took over 120 s.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(300);
        while (true)
        {
            try
            {
                using var health = await http.GetAsync(new Uri("/api/healthcheck", UriKind.Relative));
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
                // One answer slower than the client's timeout on a loaded machine: ask again until the deadline.
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"The server process did not answer /api/healthcheck with 200 within 300 s (exited: {process.HasExited}).");
            }

            await Task.Delay(200);
        }
    }

    public HttpClient CreateAdminHttpClient()
    {
        var client = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(100) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", WebServer.AdminToken);
        return client;
    }

    /// <summary>VmRSS from /proc (what top shows), in bytes.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{Pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", Pid.ToString(CultureInfo.InvariantCulture)]))
            {
                await term.WaitForExitAsync();
            }

            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(90));
            try
            {
                await _process.WaitForExitAsync(patience.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
        foreach (var dir in new[] { _dir, _dir + "-work" }.Where(Directory.Exists))
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // A job's last file may still be closing; the OS temp cleaner gets it.
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
