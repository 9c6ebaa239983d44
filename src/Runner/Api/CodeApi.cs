using LogQuota.Shared.Contracts;
using LogQuota.Runner.Code;
using LogQuota.Runner.Configuration;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Runner.Api;

/// <summary>The runner's code archives (SPEC §9): the server puts a job's code here before it submits the job.</summary>
internal static class CodeApi
{
    public static IEndpointRouteBuilder MapCodeApi(this IEndpointRouteBuilder app, string? token)
    {
        var code = app.MapGroup("/api/code").AddEndpointFilter(JobsApi.TokenAuth(token));
        code.MapMethods("/{sha256}", [HttpMethods.Head], Head);
        code.MapPut("/{sha256}", PutAsync);
        return app;
    }

    /// <summary>200 when the archive is here (it is then kept until a job names it), 404 when not.</summary>
    public static Results<Ok, NotFound, ProblemHttpResult> Head(string sha256, CodeArchives archives)
    {
        if (!JobSpecRules.IsValidCodeHash(sha256))
        {
            return NotASha(sha256);
        }

        return archives.Holds(sha256) ? TypedResults.Ok() : TypedResults.NotFound();
    }

    /// <summary>Stores the body if its SHA-256 is <paramref name="sha256"/>: 201 when stored, 200 when it was here already.</summary>
    public static async Task<Results<Created, Ok, ProblemHttpResult>> PutAsync(
        string sha256, HttpRequest request, CodeArchives archives, RunnerSettings settings, CancellationToken cancellationToken)
    {
        if (!JobSpecRules.IsValidCodeHash(sha256))
        {
            return NotASha(sha256);
        }

        if (request.ContentType?.Split(';')[0].Trim() is not ("application/gzip" or "application/x-gzip"))
        {
            return TypedResults.Problem(title: "Unsupported Media Type",
                detail: "The body must be a gzip'd tar, sent with Content-Type: application/gzip.", statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        var limit = settings.CodeMaxUnpacked;
        if (request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        // Kestrel holds every body to a submit's 1 MiB; this one may be as large as the code limit.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        try
        {
            return await archives.PutAsync(sha256, request.Body, cancellationToken)
                ? TypedResults.Created($"/api/code/{sha256}")
                : TypedResults.Ok();
        }
        catch (CodeArchiveException e)
        {
            return JobsApi.BadRequest(e.Message);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }
        catch (BadHttpRequestException e)
        {
            return TypedResults.Problem(detail: e.Message, statusCode: e.StatusCode);
        }
    }

    private static ProblemHttpResult NotASha(string text) =>
        JobsApi.BadRequest($"{CodePaths.Quote(text)} is not a SHA-256: a code archive is named by 64 lowercase hexadecimal digits.");

    private static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(title: "Payload Too Large",
            detail: $"A code archive may be at most {limit} bytes (DSTACK_RUNNER_CODE_MAX_UNPACKED).", statusCode: StatusCodes.Status413PayloadTooLarge);
}
