using System.Net.Sockets;

namespace LogQuota.Shared.Hosting;

/// <summary>Start-up failures of either service, told in one line.</summary>
public static class StartupFailure
{
    /// <summary>
    /// True when <paramref name="exception"/> is Kestrel failing to listen: it wraps some socket errors in an
    /// <see cref="IOException"/> ("Failed to bind to address ...: address already in use.") and lets others, such as an
    /// address of no interface, through as the <see cref="SocketException"/> itself.
    /// </summary>
    public static bool IsListenFailure(Exception exception) =>
        exception is SocketException ||
        (exception is IOException io && (Socket(io) is not null || io.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal)));

    /// <summary>"cannot listen on http://127.0.0.1:3000: the address is already in use by another process; ...".</summary>
    /// <param name="exception">What Kestrel threw.</param>
    /// <param name="address">The address it was asked to listen on, for when its message does not say.</param>
    /// <param name="hostVariable">The setting of the address.</param>
    /// <param name="portVariable">The setting of the port.</param>
    public static string DescribeListenFailure(Exception exception, string? address, string hostVariable, string portVariable)
    {
        ArgumentNullException.ThrowIfNull(exception);
        const string prefix = "Failed to bind to address ";
        address = exception.Message.StartsWith(prefix, StringComparison.Ordinal)
            ? exception.Message[prefix.Length..].Split(": ")[0]
            : address ?? "the configured address";
        var socket = Socket(exception);
        return socket?.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse =>
                $"cannot listen on {address}: the address is already in use by another process; stop it or choose another {portVariable}",
            SocketError.AccessDenied =>
                $"cannot listen on {address}: permission denied (ports below 1024 need privileges); choose another {portVariable}",
            SocketError.AddressNotAvailable =>
                $"cannot listen on {address}: no network interface of this machine has this address; check {hostVariable}",
            _ => $"cannot listen on {address}: {(socket?.Message ?? exception.Message).TrimEnd('.')}; check {hostVariable} and {portVariable}",
        };
    }

    private static SocketException? Socket(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket;
            }
        }

        return null;
    }
}
