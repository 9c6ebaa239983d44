using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// Whether a Docker engine that Testcontainers can drive is reachable, asked the way Testcontainers asks: its
/// <c>GET /version</c> on <c>DOCKER_HOST</c> or <c>/var/run/docker.sock</c>. Testcontainers 4 speaks API 1.44, which an
/// older engine refuses with 40 lines of errors; such an engine, like a missing or silent one, is a reason to skip.
/// </summary>
public static class DockerEngine
{
    /// <summary>The oldest engine API Testcontainers 4 works with.</summary>
    public static readonly Version MinimumApiVersion = new(1, 44);

    /// <summary>How long the probe waits for the engine to answer.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Why no usable engine is reachable at <paramref name="dockerHost"/> (<c>DOCKER_HOST</c>), or null when one is.</summary>
    public static async Task<string?> WhyUnavailableAsync(string? dockerHost)
    {
        var (endpoint, description) = Endpoint(dockerHost);
        if (endpoint is null)
        {
            return description;
        }

        using var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(endpoint, ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = new Uri("http://docker/"), Timeout = ProbeTimeout };
        string body;
        try
        {
            using var response = await client.GetAsync(new Uri("version", UriKind.Relative));
            body = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode)
            {
                return $"No usable Docker engine: {description} answered GET /version with {(int)response.StatusCode}.";
            }
        }
        catch (HttpRequestException e)
        {
            var reason = e.InnerException is SocketException socket ? socket.SocketErrorCode.ToString() : e.Message;
            return $"No Docker engine reachable: connecting to {description} failed ({reason}).";
        }
        catch (TaskCanceledException)
        {
            return $"No Docker engine reachable: {description} did not answer GET /version within {ProbeTimeout.TotalSeconds:0} s.";
        }

        try
        {
            using var version = JsonDocument.Parse(body);
            var api = version.RootElement.GetProperty("ApiVersion").GetString();
            if (!Version.TryParse(api, out var parsed))
            {
                return $"No usable Docker engine: {description} reports API version '{api}'.";
            }

            return parsed < MinimumApiVersion
                ? $"The Docker engine at {description} is too old: API {api} < {MinimumApiVersion.ToString(2)}, which Testcontainers needs."
                : null;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"No usable Docker engine: {description} answered GET /version with something that is not a Docker version.";
        }
    }

    private static (EndPoint? Endpoint, string Description) Endpoint(string? dockerHost)
    {
        if (string.IsNullOrEmpty(dockerHost))
        {
            const string socket = "/var/run/docker.sock";
            return File.Exists(socket)
                ? (new UnixDomainSocketEndPoint(socket), socket)
                : (null, $"No Docker engine reachable: {socket} does not exist and DOCKER_HOST is unset.");
        }

        if (dockerHost.StartsWith("unix://", StringComparison.Ordinal))
        {
            var path = dockerHost["unix://".Length..];
            return File.Exists(path)
                ? (new UnixDomainSocketEndPoint(path), path)
                : (null, $"No Docker engine reachable: DOCKER_HOST={dockerHost} names a socket that does not exist.");
        }

        if (dockerHost.StartsWith("tcp://", StringComparison.Ordinal) && Uri.TryCreate("http://" + dockerHost["tcp://".Length..], UriKind.Absolute, out var tcp))
        {
            return (new DnsEndPoint(tcp.Host, tcp.Port), dockerHost);
        }

        return (null, $"No Docker engine reachable: DOCKER_HOST={dockerHost} is neither unix:// nor tcp:// (or uses TLS, which this probe does not speak).");
    }
}
