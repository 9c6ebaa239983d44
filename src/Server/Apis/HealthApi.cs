using Microsoft.AspNetCore.Http.HttpResults;
using LogQuota.Shared;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Apis;

public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/healthcheck", GetHealth).WithName("Healthcheck");
        return app;
    }

    public static Ok<HealthcheckResponse> GetHealth() => TypedResults.Ok(new HealthcheckResponse("logquota-server", ProductVersion.Value));
}
