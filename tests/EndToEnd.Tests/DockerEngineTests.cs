using System.Net.Sockets;
using System.Text;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// The Docker probe against fake engines on real Unix sockets (the edge of another service): each engine that
/// Testcontainers could not drive gives a reason to skip, within the probe's timeout.
/// </summary>
public sealed class DockerEngineTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-docker-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public async Task MissingSocket_IsAReason() =>
        Assert.Contains("does not exist", await DockerEngine.WhyUnavailableAsync($"unix://{_dir.FullName}/none.sock"), StringComparison.Ordinal);

    [Fact]
    public async Task SocketNobodyListensOn_IsAReason()
    {
        var path = Path.Combine(_dir.FullName, "dead.sock");
        // Bound but not listening: the socket file exists and a connect is refused, as after an engine crashed.
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(path));

        var why = await DockerEngine.WhyUnavailableAsync($"unix://{path}");

        Assert.StartsWith($"No Docker engine reachable: connecting to {path} failed (ConnectionRefused)", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OldEngine_IsAReason_NamingBothVersions()
    {
        await using var engine = FakeEngine.Start(Path.Combine(_dir.FullName, "old.sock"), """{"Version": "20.10.24", "ApiVersion": "1.41"}""");

        var why = await DockerEngine.WhyUnavailableAsync($"unix://{engine.Path}");

        Assert.Equal($"The Docker engine at {engine.Path} is too old: API 1.41 < 1.44, which Testcontainers needs.", why);
    }

    [Fact]
    public async Task CurrentEngine_IsUsable()
    {
        await using var engine = FakeEngine.Start(Path.Combine(_dir.FullName, "new.sock"), """{"Version": "27.3.1", "ApiVersion": "1.47"}""");

        Assert.Null(await DockerEngine.WhyUnavailableAsync($"unix://{engine.Path}"));
    }

    [Fact]
    public async Task SilentEngine_IsAReason_WithinTheProbeTimeout()
    {
        await using var engine = FakeEngine.Start(Path.Combine(_dir.FullName, "silent.sock"), answer: null);
        var started = DateTime.UtcNow;

        var why = await DockerEngine.WhyUnavailableAsync($"unix://{engine.Path}");

        Assert.Contains("did not answer GET /version within 5 s", why, StringComparison.Ordinal);
        Assert.True(DateTime.UtcNow - started < DockerEngine.ProbeTimeout + TimeSpan.FromSeconds(5));
    }

    /// <summary>Accepts connections on a Unix socket and answers each request with <c>answer</c> (null: never answers).</summary>
    private sealed class FakeEngine : IAsyncDisposable
    {
        private readonly Socket _listener;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;

        private FakeEngine(string path, string? answer)
        {
            Path = path;
            _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen();
            _serving = ServeAsync(answer);
        }

        public string Path { get; }

        public static FakeEngine Start(string path, string? answer) => new(path, answer);

        private async Task ServeAsync(string? answer)
        {
            var held = new List<Socket>();
            try
            {
                while (true)
                {
                    var connection = await _listener.AcceptAsync(_stop.Token);
                    held.Add(connection);
                    await connection.ReceiveAsync(new byte[4096], _stop.Token);
                    if (answer is not null)
                    {
                        var response = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(answer)}\r\n\r\n{answer}";
                        await connection.SendAsync(Encoding.UTF8.GetBytes(response), _stop.Token);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                held.ForEach(s => s.Dispose());
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _serving;
            _listener.Dispose();
            _stop.Dispose();
        }
    }
}
