using System.Security.Cryptography;
using System.Text;
using LogQuota.Server.Configuration;

namespace LogQuota.Server.Apis;

/// <summary>Requires <c>Authorization: Bearer &lt;admin token&gt;</c> on everything under <c>/api/</c> but the health check.</summary>
internal sealed class AdminTokenMiddleware(RequestDelegate next, ServerSettings settings, IProblemDetailsService problems)
{
    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes(settings.AdminToken));

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase) ||
            path.StartsWithSegments("/api/healthcheck", StringComparison.OrdinalIgnoreCase) ||
            IsAuthorized(context.Request.Headers.Authorization.ToString()))
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

    private bool IsAuthorized(string header)
    {
        const string Scheme = "Bearer ";
        if (!header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Both sides hashed to 32 bytes first: the comparison takes the same time whatever was sent,
        // its length included.
        var given = SHA256.HashData(Encoding.UTF8.GetBytes(header[Scheme.Length..].Trim()));
        return CryptographicOperations.FixedTimeEquals(given, _expected);
    }
}
