using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>Readable on a phone and in both system themes: no sideways scrolling at 390 px, colours that follow
/// prefers-color-scheme.</summary>
[Collection(WebPageGroup.Name)]
public sealed class LayoutTests(WebServer server, Browser browser)
{
    [SkippableTheory]
    [InlineData(ColorScheme.Light, "rgb(246, 247, 249)")]
    [InlineData(ColorScheme.Dark, "rgb(13, 17, 23)")]
    public async Task ListAndRunPage_FitAPhoneScreen_InTheSystemTheme(ColorScheme scheme, string background)
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        var name = $"web-phone-{scheme.ToString().ToLowerInvariant()}";
        await admin.SubmitAsync(new { run_name = name, commands = new List<string> { "echo a line long enough to wrap on a phone screen, which the log view must wrap rather than scroll sideways" } });
        await admin.WaitForEndAsync(name);
        await using var tab = await browser.OpenAsync(server.Url, new ViewportSize { Width = 390, Height = 844 }, scheme);
        var page = tab.Page;
        await tab.SignInAsync();

        foreach (var path in new[] { "/", $"/runs/{name}", "/runs/new" })
        {
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            Assert.Equal(background, await page.EvaluateAsync<string>("getComputedStyle(document.body).backgroundColor"));
            var (scroll, width) = (await page.EvaluateAsync<int>("document.documentElement.scrollWidth"), await page.EvaluateAsync<int>("window.innerWidth"));
            Assert.True(scroll <= width, $"{path} is {scroll} px wide on a {width} px screen.");
        }

        await page.GotoAsync($"/runs/{name}");
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("must wrap");
        await tab.ScreenshotAsync($"web-run-phone-{scheme.ToString().ToLowerInvariant()}");
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }
}
