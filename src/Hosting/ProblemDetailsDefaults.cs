using Microsoft.AspNetCore.Http;

namespace LogQuota.Hosting;

/// <summary>Gives the problem details that ASP.NET Core writes itself (no route, wrong method, wrong content type,
/// an unexpected failure) a <c>detail</c> as clear as the ones the handlers write.</summary>
internal static class ProblemDetailsDefaults
{
    /// <param name="service">What failed, as a 5xx's detail names it: <c>server</c>, <c>runner</c>.</param>
    public static void FillDetail(ProblemDetailsContext context, string service)
    {
        var request = context.HttpContext.Request;
        context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
        {
            StatusCodes.Status404NotFound => $"There is no endpoint at {request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}.",
            StatusCodes.Status415UnsupportedMediaType => "The body must be JSON, sent with Content-Type: application/json.",
            StatusCodes.Status400BadRequest => "The request is malformed.",
            >= 500 => $"The {service} failed to handle the request; the failure is in its log.",
            _ => null,
        };
    }
}
