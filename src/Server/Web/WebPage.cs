using LogQuota.Server.Configuration;
using LogQuota.Server.Teams;

namespace LogQuota.Server.Web;

/// <summary>The web page at <c>/</c> (SPEC §8): Razor Pages rendered on the server, small scripts in wwwroot.</summary>
internal static class WebPage
{
    public const string SessionPolicy = "web-session";

    public static void AddWebPage(this WebApplicationBuilder builder, ServerSettings settings)
    {
        // The keys are stored unencrypted in a directory only the server's user can read, as the admin token is;
        // data protection's warning that they are unencrypted would be printed at every start.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        var services = builder.Services;

        // Session and antiforgery cookies are encrypted with the server's data protection keys (in its directory, or in
        // a PostgreSQL database for every replica), so sessions survive a restart with the same token (WebSession refuses
        // them after a change of token or a deleted user).
        services.AddServerDataProtection(settings);
        services.AddAuthentication(WebSession.Scheme)
            .AddCookie(WebSession.Scheme, options => WebSession.Configure(options));
        services.AddAuthorizationBuilder()
            .AddPolicy(SessionPolicy, policy => policy.AddAuthenticationSchemes(WebSession.Scheme).RequireAuthenticatedUser());
        services.AddAntiforgery(options =>
        {
            options.Cookie.Name = WebSession.AntiforgeryCookieName;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
        });
        services.AddRazorPages(options =>
        {
            options.RootDirectory = "/Web/Pages";
            options.Conventions.AuthorizeFolder("/", SessionPolicy);
            options.Conventions.AllowAnonymousToPage("/SignIn");
        }).AddMvcOptions(options => options.Filters.Add<AntiforgeryFailureFilter>());
    }

    /// <summary>Everything outside <c>/api/</c> gets the page's security headers; the API's answers stay as they were.</summary>
    public static WebApplication UseWebPage(this WebApplication app)
    {
        app.UseWhen(context => !context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase),
            branch => branch.UseWebSecurityHeaders());
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    public static WebApplication MapWebPage(this WebApplication app)
    {
        app.MapRazorPages();
        app.MapWebApi();
        return app;
    }
}
