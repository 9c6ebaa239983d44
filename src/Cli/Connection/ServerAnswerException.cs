using System.Net;

namespace LogQuota.Cli.Connection;

/// <summary>An error answer to a call whose response the CLI reads itself (the streamed text log), where Refit does not throw.</summary>
public sealed class ServerAnswerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServerAnswerException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ServerAnswerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public ServerAnswerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for an answer.</summary>
    public ServerAnswerException(HttpStatusCode statusCode, string? body)
        : base($"The server answered {(int)statusCode}.")
    {
        StatusCode = statusCode;
        Body = body;
    }

    /// <summary>The HTTP status of the answer.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The answer's body (problem details from the server).</summary>
    public string? Body { get; }
}
