using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>
/// Waits for a page's address by polling it, as <c>Expect(page).ToHaveURLAsync</c> does. Never <c>WaitForURLAsync</c>:
/// when the address already matches as it is called (the click's navigation had committed), it waits for a load state
/// instead, and with <c>WaitUntil = Commit</c> for one that never comes. A sign-in ran out at 90 s that way under a CPU
/// hog (<c>.ci/stress --ci</c>), with the signed-in page on screen.
/// </summary>
public static class PageAddress
{
    /// <summary>Waits until the address ends with <paramref name="pathAndQuery"/> (e.g. <c>/runs/web-yes</c>, <c>/?deleted=x</c>).</summary>
    public static Task WaitForAddressAsync(this IPage page, string pathAndQuery) =>
        Assertions.Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(pathAndQuery) + "$"));
}
