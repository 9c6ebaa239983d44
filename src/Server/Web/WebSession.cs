using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using LogQuota.Server.Configuration;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace LogQuota.Server.Web;

/// <summary>
/// The web page's sign-in: the admin token, typed into a form once, becomes an HttpOnly, SameSite=Strict session
/// cookie. The cookie carries a fingerprint of the token it was issued for, so a server restarted with another
/// admin token refuses every session issued for the old one.
/// </summary>
internal static class WebSession
{
    public const string Scheme = "LogQuotaWeb";
    public const string CookieName = "logquota_session";
    public const string AntiforgeryCookieName = "logquota_antiforgery";

    private const string FingerprintClaim = "token_fingerprint";

    /// <summary>A session lasts a working day without use; each request within it renews it (sliding).</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public static void Configure(CookieAuthenticationOptions options, ServerSettings settings)
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
        var fingerprint = Fingerprint(settings.AdminToken);
        options.Events = new CookieAuthenticationEvents
        {
            OnValidatePrincipal = async context =>
            {
                if (context.Principal?.FindFirstValue(FingerprintClaim) != fingerprint)
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

    /// <summary>True when <paramref name="presented"/> is the admin token (constant-time, as the API compares it).</summary>
    public static bool IsAdminToken(ServerSettings settings, string? presented) =>
        !string.IsNullOrEmpty(presented) &&
        CryptographicOperations.FixedTimeEquals(
            Encoding.ASCII.GetBytes(Fingerprint(presented.Trim())), Encoding.ASCII.GetBytes(Fingerprint(settings.AdminToken)));

    public static Task SignInAsync(HttpContext context, ServerSettings settings)
    {
        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, "admin"), new Claim(FingerprintClaim, Fingerprint(settings.AdminToken))], Scheme);

        // Not persistent: the cookie is a browser-session cookie; the ticket inside still expires after Lifetime.
        return context.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = false });
    }

    /// <summary>SHA-256 of the token, hex: the cookie (encrypted anyway) never holds the token itself.</summary>
    private static string Fingerprint(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
