using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Refit;

namespace LogQuota.Cli.Connection;

/// <summary>Turns what went wrong talking to the server into the one line the user reads (never a stack trace).</summary>
public static class ErrorMessages
{
    /// <summary>The line for <paramref name="exception"/>, or null when it is not a known kind of failure.</summary>
    /// <param name="exception">What was thrown.</param>
    /// <param name="connection">The server that was called.</param>
    /// <param name="runName">The run the command is about, for "not found".</param>
    public static string? Describe(Exception exception, ServerConnection connection, string? runName)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(connection);
        return exception switch
        {
            CliException e => e.Message,
            ApiException e => ForStatus(e.StatusCode, e.Content, connection, runName),
            ServerAnswerException e => ForStatus(e.StatusCode, e.Body, connection, runName),
            ApiRequestException { InnerException: { } inner } => Describe(inner, connection, runName),
            HttpRequestException e => Unreachable(e, connection),
            TimeoutException or TaskCanceledException { InnerException: TimeoutException } =>
                $"the server at {Display(connection.Url)} did not answer in time",
            _ => null,
        };
    }

    /// <summary>The line for an error answer of the server.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="body">The answer's body: RFC 7807 problem details when it comes from the server.</param>
    /// <param name="connection">The server that was called.</param>
    /// <param name="runName">The run the command is about, for "not found".</param>
    public static string ForStatus(HttpStatusCode status, string? body, ServerConnection connection, string? runName)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (status == HttpStatusCode.Unauthorized)
        {
            return connection.Token is null && connection.TokenFile is not null
                ? $"the server asks for a token and none was found (set DSTACK_TOKEN or --token; no token in {connection.TokenFile})"
                : $"the server rejected the token{(connection.TokenSource is { } source ? " " + source : "")} (set DSTACK_TOKEN or --token to your token on this server, or its admin token)";
        }

        if (status == HttpStatusCode.NotFound && runName is not null)
        {
            // The project may be what is missing (or not one of the caller's): then the server's detail says so.
            return Detail(body) is { } detail && !detail.Contains($"'{runName}'", StringComparison.Ordinal) ? detail : $"run {runName} not found";
        }

        return Detail(body) ?? $"the server answered {(int)status} {ReasonPhrase(status)}".TrimEnd();
    }

    /// <summary>The <c>detail</c> of a problem details body, on one line; null when there is none.</summary>
    public static string? Detail(string? body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object &&
                document.RootElement.TryGetProperty("detail", out var detail) &&
                detail.ValueKind == JsonValueKind.String &&
                !string.IsNullOrWhiteSpace(detail.GetString()))
            {
                return OneLine(detail.GetString()!);
            }
        }
        catch (JsonException)
        {
            // Not from our server (a proxy's HTML page, say): the status line says more than its body would.
        }

        return null;
    }

    private static string Unreachable(HttpRequestException exception, ServerConnection connection)
    {
        var url = Display(connection.Url);
        var socket = exception.InnerException as SocketException;
        return (exception.HttpRequestError, socket?.SocketErrorCode) switch
        {
            (HttpRequestError.SecureConnectionError, _) =>
                $"cannot make a TLS connection to {url} ({OneLine(Innermost(exception).Message).TrimEnd('.')}); " +
                "the LogQuota server itself speaks plain HTTP: use http:// unless a TLS proxy is in front, and then check that its certificate is trusted",
            (_, SocketError.ConnectionRefused) => $"cannot reach the server at {url}: nothing listens there (connection refused); is the server running?",
            (_, SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData) =>
                $"cannot reach the server at {url}: the host name {connection.Url.Host} is not known",
            (HttpRequestError.InvalidResponse or HttpRequestError.ResponseEnded, _) when connection.Url.Scheme == Uri.UriSchemeHttp =>
                $"the server at {url} did not answer in HTTP; if it is behind a TLS proxy, use https://",
            _ => $"cannot reach the server at {url} ({OneLine(socket?.Message ?? exception.Message)})",
        };
    }

    private static Exception Innermost(Exception exception)
    {
        var e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static string Display(Uri url) => url.ToString().TrimEnd('/');

    private static string? ReasonPhrase(HttpStatusCode status)
    {
        using var response = new HttpResponseMessage(status);
        return response.ReasonPhrase;
    }

    private static string OneLine(string text) =>
        string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
