using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>
/// The run page while the server cannot answer its reads now (a 503, as when the database is busy): the first read of
/// the log is asked again, but never over a window the reader opened meanwhile. The folds' and line numbers' own reads
/// are in <see cref="SectionFoldsTests"/>.
/// </summary>
[Collection(WebPageGroup.Name)]
public sealed class BusyServerTests(WebServer server, Browser browser)
{
    [SkippableFact]
    public async Task TheStartOpenedWhileTheFirstReadFails_Stays_AndTheEndIsNoLongerAsked()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using (var admin = server.CreateAdminHttpClient())
        {
            await admin.SubmitAsync(new { run_name = "web-busy-start", commands = new List<string> { "seq 1 50" } });
            await admin.WaitForEndAsync("web-busy-start");
        }

        await using var tab = await browser.OpenAsync(server.Url);
        await tab.SignInAsync();
        var page = tab.Page;
        var busy = new BusyReads(page);
        // Every read of the log's end fails: without a window of its own the page would ask for it for as long as it is open.
        var ends = await busy.FailFirstAsync(
            url => url.Contains("/web-busy-start/logs?", StringComparison.Ordinal) && url.Contains("descending=true", StringComparison.Ordinal), int.MaxValue);

        await page.GotoAsync("/runs/web-busy-start");
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("The log could not be read: The database is busy");
        await page.Locator("#log-start").ClickAsync();
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("the whole log");
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("50");

        // Three of the page's own retry periods (2 s each), timed by the page: a read of the end asked meanwhile would
        // put its failure back in the status.
        var asked = ends();
        await page.EvaluateAsync("() => new Promise((resolve) => setTimeout(resolve, 6000))");
        Assert.True(ends() <= asked + 1, $"the end was asked {ends() - asked} more time(s) after the start was shown");
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("the whole log");
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("50");
    }
}
