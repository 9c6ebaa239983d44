using System.Text.Json;
using LogQuota.Hosting;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Server.Apis;

/// <summary>
/// Reads a request's JSON body by hand rather than binding it, so a malformed one gets a detail saying what is wrong
/// and where, and unknown fields are refused (strict options); bounded by <see cref="JobSpecRules.MaxBodyBytes"/>.
/// </summary>
internal static class JsonBody
{
    /// <summary>The body as <typeparamref name="T"/>, or the problem to answer instead (415, 413, 400).</summary>
    /// <param name="request">The request.</param>
    /// <param name="what">What the body should be, for the message: <c>a run</c>.</param>
    /// <param name="example">A good body, for the message when it is not an object.</param>
    /// <param name="cancellationToken">The request's token.</param>
    public static async Task<(T? Body, ProblemHttpResult? Problem)> ReadAsync<T>(HttpRequest request, string what, string example, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return (null, Problem(StatusCodes.Status415UnsupportedMediaType, "The body must be JSON, sent with Content-Type: application/json."));
        }

        if (request.ContentLength > JobSpecRules.MaxBodyBytes)
        {
            return (null, TooLarge());
        }

        T? body;
        try
        {
            // Read whole but bounded (Kestrel holds the same limit; this also holds it for chunked bodies in any host).
            body = await Hosting.JsonBody.ReadAsync<T>(request, JobSpecRules.MaxBodyBytes, cancellationToken);
        }
        catch (BodyTooLargeException)
        {
            return (null, TooLarge());
        }
        catch (JsonException e)
        {
            return (null, Problem(StatusCodes.Status400BadRequest, $"The body is not a valid {what}: {JsonErrors.Describe(e, typeof(T), LogQuotaJson.StrictOptions)}"));
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own limits and malformed framing: 413, 400.
            return (null, Problem(e.StatusCode, e.Message));
        }

        return body is null
            ? (null, Problem(StatusCodes.Status400BadRequest, $"The body must be a JSON object such as {example}."))
            : (body, null);
    }

    private static ProblemHttpResult TooLarge() =>
        Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {JobSpecRules.MaxBodyBytes} bytes.");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
