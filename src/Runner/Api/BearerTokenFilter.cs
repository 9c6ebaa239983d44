using System.Security.Cryptography;
using System.Text;

namespace LogQuota.Runner.Api;

/// <summary>Checks <c>Authorization: Bearer &lt;token&gt;</c> in constant time.</summary>
internal sealed class BearerTokenFilter(string? token) : IEndpointFilter
{
    private readonly byte[]? _expected = token is null ? null : Encoding.UTF8.GetBytes(token);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (_expected is null)
        {
            return await next(context); // loopback without a token: settings validation allows only that
        }

        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        var presented = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            ? Encoding.UTF8.GetBytes(header[scheme.Length..].Trim())
            : [];
        if (!CryptographicOperations.FixedTimeEquals(presented, _expected))
        {
            return TypedResults.Problem(
                title: "Unauthorized",
                detail: "A valid 'Authorization: Bearer <DSTACK_RUNNER_TOKEN>' header is required.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }
}
