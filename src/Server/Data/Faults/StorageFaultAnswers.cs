using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Data.Faults;

/// <summary>
/// A request that failed because the database cannot be written (or read) right now answers 503 problem details with
/// <c>Retry-After</c>, never 500: the client did nothing wrong, nothing was changed (its transaction rolled back), and
/// the same request later will do. Anything else falls through to the default handler.
/// </summary>
internal sealed class StorageFaultAnswers(StorageHealth health, IProblemDetailsService problems, ILogger<StorageFaultAnswers> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        if (StorageFault.From(exception) is not { } fault)
        {
            return false;
        }

        health.Failed(fault);
        logger.LogWarning("{Method} {Path} answered 503: the database cannot be written: {Fault}", httpContext.Request.Method, httpContext.Request.Path, fault);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = health.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "Service Unavailable",
                Detail = Describe(fault) + $" Nothing was changed; try again in {health.RetryAfterSeconds} s.",
            },
        });
    }

    /// <summary>"The server's database cannot be written: disk full (database or disk is full)."</summary>
    public static string Describe(StorageFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        return $"The server's database cannot be written: {fault}.";
    }
}
