using LogQuota.Shared.Security;

namespace LogQuota.Runner.Api;

/// <summary>Requires <c>Authorization: Bearer &lt;DSTACK_RUNNER_TOKEN&gt;</c>, compared in constant time (<see cref="BearerToken"/>).</summary>
internal sealed class BearerTokenFilter(string? token) : IEndpointFilter
{
    private readonly BearerToken? _expected = token is null ? null : new BearerToken(token);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (_expected is null)
        {
            return await next(context); // loopback without a token: settings validation allows only that
        }

        if (!_expected.Matches(context.HttpContext.Request.Headers.Authorization.ToString()))
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
            return TypedResults.Problem(
                title: "Unauthorized",
                detail: "A valid 'Authorization: Bearer <DSTACK_RUNNER_TOKEN>' header is required.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }
}
