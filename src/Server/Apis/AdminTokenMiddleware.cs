using LogQuota.Server.Configuration;
using LogQuota.Hosting;

namespace LogQuota.Server.Apis;

/// <summary>Requires <c>Authorization: Bearer &lt;admin token&gt;</c> on everything under <c>/api/</c> but the health check.</summary>
internal sealed class AdminTokenMiddleware(RequestDelegate next, ServerSettings settings)
{
    private readonly BearerAuth _auth = new(settings.AdminToken,
        "Send the admin token as 'Authorization: Bearer <token>' (DSTACK_SERVER_ADMIN_TOKEN or the admin-token file in the server directory).");

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ||
            path.StartsWithSegments("/api/healthcheck", StringComparison.OrdinalIgnoreCase) ||
            _auth.Allows(context.Request))
        {
            await next(context);
            return;
        }

        await _auth.Challenge(context.Response).ExecuteAsync(context);
    }
}
