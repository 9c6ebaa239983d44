using LogQuota.Hosting;
using LogQuota.Server.Teams;
using LogQuota.Shared.Security;

namespace LogQuota.Server.Apis;

/// <summary>
/// Requires <c>Authorization: Bearer &lt;token&gt;</c> on everything under <c>/api/</c> but the health check: a user's
/// token or the admin token. The <see cref="Caller"/> it proves goes with the request to the endpoint, which asks
/// <see cref="TeamAccess"/> what that caller may do.
/// </summary>
internal sealed class CallerMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context, CallerAuthentication authentication)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ||
            path.StartsWithSegments("/api/healthcheck", StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        if (BearerToken.TryRead(context.Request.Headers.Authorization.ToString(), out var token) &&
            await authentication.AuthenticateAsync(token, context.RequestAborted) is { } caller)
        {
            context.Features.Set(caller);
            await next(context);
            return;
        }

        await BearerAuth.Challenge(context.Response,
            "Send your token as 'Authorization: Bearer <token>': a user's token, or the admin token " +
            "(DSTACK_SERVER_ADMIN_TOKEN or the admin-token file in the server directory).").ExecuteAsync(context);
    }
}
