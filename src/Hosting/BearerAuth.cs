using LogQuota.Shared.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace LogQuota.Hosting;

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c>, compared in constant time (<see cref="BearerToken"/>), and the one answer
/// to a request without it: 401, <c>WWW-Authenticate: Bearer</c>, and a problem saying what to send. The server's admin
/// token, the runner's token and both services' metrics token are checked here.
/// </summary>
/// <param name="token">The token; null requires none (a loopback runner without one).</param>
/// <param name="detail">The 401's detail: which token to send, and where it comes from.</param>
public sealed class BearerAuth(string? token, string detail) : IEndpointFilter
{
    private readonly BearerToken? _expected = token is null ? null : new BearerToken(token);

    /// <summary>True when <paramref name="request"/> carries the token, or none is required.</summary>
    public bool Allows(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _expected is null || _expected.Matches(request.Headers.Authorization.ToString());
    }

    /// <summary>The answer to a request that does not carry the token.</summary>
    public ProblemHttpResult Challenge(HttpResponse response) => Challenge(response, detail);

    /// <summary>The one 401 for a request without a token its service takes, saying in <paramref name="detail"/> which to send.</summary>
    public static ProblemHttpResult Challenge(HttpResponse response, string detail)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(title: "Unauthorized", detail: detail, statusCode: StatusCodes.Status401Unauthorized);
    }

    /// <summary>As an endpoint filter: the endpoints of a group that requires the token.</summary>
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        return Allows(context.HttpContext.Request) ? await next(context) : Challenge(context.HttpContext.Response);
    }
}
