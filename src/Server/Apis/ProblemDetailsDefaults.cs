namespace LogQuota.Server.Apis;

/// <summary>Gives the problem details that ASP.NET Core writes itself (no route, wrong method, wrong content type,
/// an unexpected failure) a <c>detail</c> as clear as the ones the handlers write.</summary>
internal static class ProblemDetailsDefaults
{
    public static void FillDetail(ProblemDetailsContext context)
    {
        var request = context.HttpContext.Request;
        context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
        {
            StatusCodes.Status404NotFound => $"There is no endpoint at {request.Path}.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Method} is not allowed on {request.Path}.",
            StatusCodes.Status415UnsupportedMediaType => "The body must be JSON, sent with Content-Type: application/json.",
            StatusCodes.Status400BadRequest => "The request is malformed.",
            >= 500 => "The server failed to handle the request; the failure is in its log.",
            _ => null,
        };
    }
}
