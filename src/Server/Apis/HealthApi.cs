using System.Globalization;
using LogQuota.Server.Data.Faults;
using LogQuota.Shared;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Server.Apis;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/healthcheck", GetHealth).WithName("Healthcheck").ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return app;
    }

    /// <summary>Alive, and 503 naming the cause while the database cannot be written (SPEC §6 storage faults).</summary>
    public static Results<Ok<HealthcheckResponse>, ProblemHttpResult> GetHealth(HttpResponse response, StorageHealth storage)
    {
        ArgumentNullException.ThrowIfNull(response);
        ArgumentNullException.ThrowIfNull(storage);
        if (storage.Current is { } fault)
        {
            response.Headers.RetryAfter = storage.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return TypedResults.Problem(
                detail: $"{StorageFaultAnswers.Describe(fault.Fault)[..^1]} since {fault.Since.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC; " +
                    "the server retries with backoff and resumes with nothing lost once it can write again.",
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        return TypedResults.Ok(new HealthcheckResponse("logquota-server", ProductVersion.Value));
    }
}
