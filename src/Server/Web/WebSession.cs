using System.Security.Claims;
using LogQuota.Server.Teams;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace LogQuota.Server.Web;

/// <summary>
/// The web page's sign-in: a user's token or the admin token, typed into a form once, becomes an HttpOnly,
/// SameSite=Strict session cookie for that <see cref="Caller"/>. The cookie carries a fingerprint of the token it was
/// issued for, checked on every request, so a rotated token, a deleted user or a server restarted with another admin
/// token ends every session issued for the old one.
/// </summary>
internal static class WebSession
{
    public const string Scheme = "LogQuotaWeb";
    public const string CookieName = "logquota_session";
    public const string AntiforgeryCookieName = "logquota_antiforgery";

    private const string FingerprintClaim = "token_fingerprint";
    private const string UserIdClaim = "user_id";
    private const string GlobalRoleClaim = "global_role";

    /// <summary>A session lasts a working day without use; each request within it renews it (sliding).</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static void Configure(CookieAuthenticationOptions options)
    {
        options.Cookie.Name = CookieName;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;

        // The server speaks plain HTTP on loopback by default; behind TLS the cookie is marked Secure.
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        options.ExpireTimeSpan = Lifetime;
        options.SlidingExpiration = true;
        options.LoginPath = "/signin";
        options.LogoutPath = "/signout";
        options.AccessDeniedPath = "/signin";
        options.Events = new CookieAuthenticationEvents
        {
            OnValidatePrincipal = async context =>
            {
                var authentication = context.HttpContext.RequestServices.GetRequiredService<CallerAuthentication>();
                if (CallerOf(context.Principal) is not { } caller ||
                    context.Principal!.FindFirstValue(FingerprintClaim) is not { } fingerprint ||
                    await authentication.FingerprintAsync(caller, context.HttpContext.RequestAborted) != fingerprint)
                {
                    context.RejectPrincipal();
                    await context.HttpContext.SignOutAsync(Scheme);
                }
            },

            // The page's scripts get a 401 they can act on, not a redirect to an HTML form.
            OnRedirectToLogin = context =>
            {
                if (WebApi.Owns(context.Request.Path))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    return Task.CompletedTask;
                }

                context.Response.Redirect(context.RedirectUri);
                return Task.CompletedTask;
            },
        };
    }

    /// <summary>The caller a session cookie's principal stands for; null for anything else.</summary>
    public static Caller? CallerOf(ClaimsPrincipal? principal)
    {
        if (principal?.Identity is not { IsAuthenticated: true, AuthenticationType: Scheme } ||
            principal.FindFirstValue(ClaimTypes.Name) is not { } name ||
            !WireNames.TryParse<GlobalRole>(principal.FindFirstValue(GlobalRoleClaim), out var role))
        {
            return null;
        }

        if (principal.FindFirstValue(UserIdClaim) is not { } id)
        {
            return Caller.BootstrapAdmin;
        }

        return Guid.TryParse(id, out var userId) ? new Caller(userId, name, role) : null;
    }

    public static async Task SignInAsync(HttpContext context, Caller caller, CancellationToken cancellationToken)
    {
        var fingerprint = await context.RequestServices.GetRequiredService<CallerAuthentication>().FingerprintAsync(caller, cancellationToken);
        List<Claim> claims =
        [
            new(ClaimTypes.Name, caller.Name), new(GlobalRoleClaim, WireNames.Of(caller.GlobalRole)), new(FingerprintClaim, fingerprint ?? ""),
        ];
        if (caller.UserId is { } id)
        {
            claims.Add(new Claim(UserIdClaim, id.ToString()));
        }

        // Not persistent: the cookie is a browser-session cookie; the ticket inside still expires after Lifetime.
        await context.SignInAsync(Scheme, new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme)), new AuthenticationProperties { IsPersistent = false });
    }
}
