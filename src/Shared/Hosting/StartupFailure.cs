using System.Net.Sockets;

namespace LogQuota.Shared.Hosting;

/// <summary>Start-up failures of either service, told in one line.</summary>
public static class StartupFailure
{
    /// <summary>True when <paramref name="exception"/> is Kestrel failing to bind its address.</summary>
    /// <remarks>Kestrel wraps the socket's error in an <see cref="IOException"/> ("Failed to bind to address ...").</remarks>
    public static bool IsListenFailure(IOException exception) =>
        Socket(exception) is not null || exception?.Message.StartsWith("Failed to bind to address", StringComparison.Ordinal) == true;

    /// <summary>"cannot listen on http://127.0.0.1:3000: the address is already in use (set DSTACK_SERVER_PORT ...)".</summary>
    public static string DescribeListenFailure(IOException exception, string hostVariable, string portVariable)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var address = exception.Message.StartsWith("Failed to bind to address ", StringComparison.Ordinal)
            ? exception.Message["Failed to bind to address ".Length..].Split(": ")[0]
            : "the configured address";
        return Socket(exception)?.SocketErrorCode switch
        {
            SocketError.AddressAlreadyInUse =>
                $"cannot listen on {address}: the address is already in use by another process; stop it or choose another {portVariable}",
            SocketError.AccessDenied =>
                $"cannot listen on {address}: permission denied (ports below 1024 need privileges); choose another {portVariable}",
            SocketError.AddressNotAvailable =>
                $"cannot listen on {address}: no network interface has this address; check {hostVariable}",
            _ => $"cannot listen on {address}: {(Socket(exception)?.Message ?? exception.Message).TrimEnd('.')}; check {hostVariable} and {portVariable}",
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
