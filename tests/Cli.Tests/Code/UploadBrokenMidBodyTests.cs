using System.Net;
using System.Net.Sockets;
using System.Text;
using LogQuota.Cli.Code;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.Code;

/// <summary>
/// A server (or a proxy in front of it) that lets the body start and then drops the connection, as one with a smaller
/// body limit than LogQuota's does: the CLI says what broke and what to do, as one line, not a socket error.
/// </summary>
public sealed class UploadBrokenMidBodyTests : IDisposable
{
    private readonly ProjectTree _tree = new();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public void Dispose()
    {
        _listener.Stop();
        _listener.Dispose();
        _tree.Dispose();
    }

    [Fact]
    public async Task TheConnectionDroppedAfterTheFirstBytes_IsOneLineNamingTheSizeAndTheWaysOut()
    {
        _tree.WriteRandom("data/big.bin", 8 << 20);
        _tree.Write("train.py", "print(1)\n");
        using var archive = await CodeArchive.PackAsync(await CodeFiles.ListAsync(_tree.Root, CancellationToken.None), CancellationToken.None);
        _listener.Start();
        var edge = ServeAsync();

        using var http = RequestTimeouts.CreateClient();
        var url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        var api = new ServerConnection(url, "token", null).CreateApi(http);
        var e = await Assert.ThrowsAsync<CliException>(() => CodeUpload.SendAsync(api, archive, CancellationToken.None));

        Assert.StartsWith("the connection to the server broke while the code was being sent (8.0MiB compressed, 8.0MiB in 2 files):", e.Message, StringComparison.Ordinal);
        Assert.Contains("largest files: data/big.bin 8.0MiB, train.py 9B;", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Equal(["HEAD", "PUT"], await edge.WaitAsync(TimeSpan.FromSeconds(60)));
    }

    /// <summary>Answers the HEAD with 404, lets the PUT's body start with 100 Continue, reads 64 KiB of it and resets.</summary>
    private async Task<List<string>> ServeAsync()
    {
        var methods = new List<string>();
        while (methods.Count < 2)
        {
            using var socket = await _listener.AcceptSocketAsync();
            var headers = new StringBuilder();
            var buffer = new byte[1];
            while (!headers.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await socket.ReceiveAsync(buffer) == 1)
            {
                headers.Append((char)buffer[0]);
            }

            var method = headers.ToString().Split(' ')[0];
            methods.Add(method);
            if (method == "HEAD")
            {
                await socket.SendAsync("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray());
                continue;
            }

            await socket.SendAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
            var body = new byte[64 << 10];
            for (var read = 0; read < body.Length;)
            {
                var n = await socket.ReceiveAsync(body.AsMemory(read));
                Assert.True(n > 0, "the client closed before sending 64 KiB of the body");
                read += n;
            }

            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }

        return methods;
    }
}
