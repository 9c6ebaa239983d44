using System.Net;
using System.Net.Sockets;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>
/// A real TCP relay on loopback between the server and its database, which a test can cut (every connection closed, new
/// ones refused) and restore on the same port: the network between two hosts going down, for real sockets.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly string _host;
    private readonly int _targetPort;
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource _cut = new();
    private Task _accepting = Task.CompletedTask;

    private TcpRelay(string host, int targetPort, int port)
    {
        _host = host;
        _targetPort = targetPort;
        Port = port;
    }

    /// <summary>The relay's own loopback port.</summary>
    public int Port { get; }

    public static TcpRelay Start(string host, int targetPort)
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var relay = new TcpRelay(host, targetPort, port);
        relay.Resume();
        return relay;
    }

    /// <summary>Listens again on the same port.</summary>
    public void Resume()
    {
        _cut = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _accepting = AcceptAsync(_listener, _cut.Token);
    }

    /// <summary>Closes every relayed connection and refuses new ones until <see cref="Resume"/>.</summary>
    public async Task CutAsync()
    {
        await _cut.CancelAsync();
        _listener?.Stop();
        lock (_open)
        {
            foreach (var client in _open)
            {
                // A reset, not a polite close: as a link that went down looks to both ends.
                try
                {
                    if (client.Client is { Connected: true } socket)
                    {
                        socket.LingerState = new LingerOption(true, 0);
                    }
                }
                catch (ObjectDisposedException)
                {
                    // Its pump closed it meanwhile (the other end hung up): nothing left to reset.
                }

                client.Dispose();
            }

            _open.Clear();
        }

        await _accepting.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    public async ValueTask DisposeAsync()
    {
        await CutAsync();
        _cut.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(_host, _targetPort, cancellationToken);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_open)
            {
                _open.Add(inbound);
                _open.Add(outbound);
            }

            _ = PumpAsync(inbound, outbound, cancellationToken);
            _ = PumpAsync(outbound, inbound, cancellationToken);
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, CancellationToken cancellationToken)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream(), cancellationToken);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or SocketException or InvalidOperationException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
