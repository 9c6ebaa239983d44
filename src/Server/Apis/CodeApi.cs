using LogQuota.Server.Code;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace LogQuota.Server.Apis;

/// <summary>The code resource (SPEC §9): gzip'd tars named by their SHA-256, which a run names with <c>code_hash</c>.</summary>
public static class CodeApi
{
    public static IEndpointRouteBuilder MapCodeApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/code").WithTags("Code");
        api.MapPut("/{sha256}", PutCode).Accepts<Stream>("application/gzip").WithName("PutCode")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.MapMethods("/{sha256}", [HttpMethods.Head], HeadCode).WithName("HeadCode");
        return app;
    }

    /// <summary>Stores the body under its hash: 201 when stored, 200 when it was held already (one copy, whoever uploads it).</summary>
    public static async Task<Results<Created<CodeArchiveInfo>, Ok<CodeArchiveInfo>, ProblemHttpResult>> PutCode(
        [FromRoute(Name = "sha256")] string sha256, HttpContext context, ServerDbContext db, CodeStore store, ServerSettings settings,
        TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(time);
        if (!JobSpecRules.IsValidCodeHash(sha256))
        {
            return MalformedHash(sha256);
        }

        var limit = settings.CodeMaxBytes;
        if (limit == 0)
        {
            return Problem(StatusCodes.Status403Forbidden,
                $"Code uploads are off on this server ({ServerSettingsLoader.CodeMaxBytesVariable}=0); run without code.");
        }

        if (context.Request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        // The server's 1 MiB body limit is for JSON; this body is bounded by the code limit, counted while it is read.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        // The server holds these bytes already, whoever sent them: the body is only read to its end (an answer before the
        // body is read would leave the client writing into a closed connection), never stored.
        CodeUpload? upload;
        try
        {
            if (await CodeStore.TouchAsync(db, sha256, time.GetUtcNow(), cancellationToken) && await store.FindAsync(sha256, cancellationToken) is { } held)
            {
                return await SkipBodyAsync(context.Request.Body, limit, cancellationToken)
                    ? TypedResults.Ok(new CodeArchiveInfo(sha256, held.SizeBytes))
                    : TooLarge(limit);
            }

            upload = await CodeUpload.ReceiveAsync(context.Request.Body, settings.Dir, limit, cancellationToken);
        }
        catch (BadHttpRequestException e)
        {
            // Malformed framing, a client that stopped sending.
            return Problem(e.StatusCode, e.Message);
        }

        if (upload is null)
        {
            return TooLarge(limit);
        }

        await using (upload)
        {
            if (upload.Sha256 != sha256)
            {
                return Problem(StatusCodes.Status400BadRequest,
                    $"The body's SHA-256 is {upload.Sha256}, not the {sha256} the URL names; name the archive by the SHA-256 of its bytes as sent.");
            }

            if (upload.Problem is { } problem)
            {
                return Problem(StatusCodes.Status400BadRequest, problem);
            }

            upload.File.Position = 0;
            var stored = new CodeArchiveInfo(sha256, upload.Size);
            return await store.StoreAsync(db, sha256, upload.File, upload.Size, cancellationToken)
                ? TypedResults.Created($"/api/code/{sha256}", stored)
                : TypedResults.Ok(stored);
        }
    }

    /// <summary>200 when the server holds the archive, 404 when not (HEAD: no body).</summary>
    public static async Task<Results<Ok, NotFound, BadRequest>> HeadCode(
        [FromRoute(Name = "sha256")] string sha256, ServerDbContext db, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (!JobSpecRules.IsValidCodeHash(sha256))
        {
            return TypedResults.BadRequest();
        }

        return await CodeStore.ExistsAsync(db, sha256, cancellationToken) ? TypedResults.Ok() : TypedResults.NotFound();
    }

    /// <summary>Reads <paramref name="body"/> to its end without keeping it; false once it is longer than <paramref name="limit"/>.</summary>
    private static async Task<bool> SkipBodyAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        var buffer = new byte[81_920];
        long read = 0;
        int count;
        while ((count = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            read += count;
            if (read > limit)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The 400 of a malformed hash, in the URL or in <c>code_hash</c>.</summary>
    internal static string MalformedHashDetail(string field, string hash) =>
        $"{field} must be the SHA-256 of the archive as 64 lowercase hex digits; got {JobSpecRules.Quote(hash)}.";

    private static ProblemHttpResult MalformedHash(string sha256) =>
        Problem(StatusCodes.Status400BadRequest, MalformedHashDetail("The code's name", sha256));

    private static ProblemHttpResult TooLarge(long limit) =>
        Problem(StatusCodes.Status413PayloadTooLarge,
            $"The archive must be at most {limit} bytes compressed ({ServerSettingsLoader.CodeMaxBytesVariable}); leave large files out of the code (.logquotaignore) and put data on the runner.");

    private static ProblemHttpResult Problem(int status, string detail) => TypedResults.Problem(detail: detail, statusCode: status);
}
