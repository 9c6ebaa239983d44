namespace LogQuota.Runner;

/// <summary>The log levels both services start with; <c>Logging__LogLevel__*</c> variables can change them.</summary>
public static class ServiceLogging
{
    /// <summary>Applies the defaults to <paramref name="logging"/>.</summary>
    public static void Configure(ILoggingBuilder logging)
    {
        ArgumentNullException.ThrowIfNull(logging);

        // A server polls every job every second: ASP.NET Core's 6-7 information lines per request would bury the
        // job lines, so requests are logged from Warning up (a failed request still shows).
        logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // A host that fails to start (a busy port) logs the exception with its stack before it rethrows; Program
        // prints that failure as one line instead. A background service that faults later still logs at Critical.
        logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
    }
}
