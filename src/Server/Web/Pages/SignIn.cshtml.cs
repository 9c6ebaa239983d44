using LogQuota.Server.Teams;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace LogQuota.Server.Web.Pages;

/// <summary>A user's token or the admin token in, a session cookie out; the token is never written back into the page or a URL.</summary>
public sealed class SignInModel(CallerAuthentication authentication, ILogger<SignInModel> logger) : PageModel
{
    public string? Error { get; private set; }

    public string ReturnUrl { get; private set; } = "/";

    public IActionResult OnGet([FromQuery] string? returnUrl)
    {
        ReturnUrl = LocalOrHome(returnUrl);
        return User.Identity?.IsAuthenticated == true ? LocalRedirect(ReturnUrl) : Page();
    }

    public async Task<IActionResult> OnPostAsync([FromForm] string? returnUrl, CancellationToken cancellationToken)
    {
        ReturnUrl = LocalOrHome(returnUrl);

        // Read from the form, not bound as an argument: Razor Pages logs a handler's arguments (at Debug), token and all.
        string? token = Request.Form["token"];
        if (await authentication.AuthenticateAsync(token, cancellationToken) is not { } caller)
        {
            logger.LogWarning("A web sign-in with a wrong token was refused from {RemoteAddress}", HttpContext.Connection.RemoteIpAddress);
            Error = string.IsNullOrWhiteSpace(token) ? "Type your token." : "That is not a user's token nor the admin token.";
            Response.StatusCode = StatusCodes.Status401Unauthorized;
            return Page();
        }

        await WebSession.SignInAsync(HttpContext, caller, cancellationToken);
        return LocalRedirect(ReturnUrl);
    }

    /// <summary>Only a path on this server: a sign-in link must not be able to send the user elsewhere.</summary>
    private string LocalOrHome(string? url) => url is not null && Url.IsLocalUrl(url) ? url : "/";
}
