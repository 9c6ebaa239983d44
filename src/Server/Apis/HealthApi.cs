using Microsoft.AspNetCore.Http.HttpResults;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Apis;

public static class HealthApi
{
    private static readonly string Version =
        typeof(HealthApi).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/healthcheck", GetHealth).WithName("Healthcheck");
        return app;
    }

    public static Ok<HealthcheckResponse> GetHealth() => TypedResults.Ok(new HealthcheckResponse("logquota-server", Version));
}
