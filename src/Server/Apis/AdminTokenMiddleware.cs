using LogQuota.Server.Configuration;
using LogQuota.Shared.Security;

namespace LogQuota.Server.Apis;

/// <summary>Requires <c>Authorization: Bearer &lt;admin token&gt;</c> on everything under <c>/api/</c> but the health check.</summary>
internal sealed class AdminTokenMiddleware(RequestDelegate next, ServerSettings settings, IProblemDetailsService problems)
{
    private readonly BearerToken _expected = new(settings.AdminToken);

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ||
            path.StartsWithSegments("/api/healthcheck", StringComparison.OrdinalIgnoreCase) ||
            _expected.Matches(context.Request.Headers.Authorization.ToString()))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = "Send the admin token as 'Authorization: Bearer <token>' (DSTACK_SERVER_ADMIN_TOKEN or the admin-token file in the server directory).",
            },
        });
    }
}
