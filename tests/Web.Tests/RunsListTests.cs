using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>The runs list: failed rows marked, filters, redrawn while a run is active, paged by the API's token.</summary>
[Collection(WebPageGroup.Name)]
public sealed class RunsListTests(WebServer server, Browser browser)
{
    private static readonly string[] ActiveStatuses = ["pending", "submitted", "running", "terminating"];

    [SkippableFact]
    public async Task RunsList_MarksFailedRows_Filters_AndRedrawsItselfWhileARunIsActive()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new { run_name = "web-list-done", commands = new List<string> { "echo fine" } });
        await admin.SubmitAsync(new { run_name = "web-list-exit", commands = new List<string> { "echo broken; exit 3" } });
        await admin.WaitForEndAsync("web-list-done");
        await admin.WaitForEndAsync("web-list-exit");
        await admin.SubmitAsync(new { run_name = "web-list-train", commands = new List<string> { "echo epoch 1; sleep 600" }, log_quota_hour = 100, max_duration = 300 });
        await Runs.UntilAsync(() => admin.GetRunAsync("web-list-train"), r => r?.LogBytesHour > 0, "web-list-train to store a line");

        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/");
        var exit = page.Locator("tr[data-run=web-list-exit]");
        await Assertions.Expect(exit).ToHaveClassAsync("failed");
        await Assertions.Expect(exit.Locator("td[data-label=Status]")).ToHaveTextAsync("exited (3)");
        await Assertions.Expect(page.Locator("tr[data-run=web-list-done]")).Not.ToHaveClassAsync("failed");
        var train = page.Locator("tr[data-run=web-list-train]");
        await Assertions.Expect(train.Locator("td[data-label=Status]")).ToHaveTextAsync("running");

        // 8 of 100 bytes: the bar is below the warning threshold (80 %).
        await Assertions.Expect(train.Locator(".usage-text")).ToHaveTextAsync("8 B of 100 B (8%)");
        await Assertions.Expect(page.Locator("#runs")).ToHaveAttributeAsync("data-refresh", "true");
        await tab.ScreenshotAsync("web-runs", fullPage: false);

        await page.Locator("input[name=active]").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        // The filtered table's own mark, not the address: waiting for the address also waited for the new document's
        // load event, which a loaded machine once held past 90 s although the table had long been drawn.
        await Assertions.Expect(page.Locator("#runs")).ToHaveAttributeAsync("data-active", "1");
        await Assertions.Expect(train).ToBeVisibleAsync();
        Assert.All(await page.Locator("tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.status)"), s => Assert.Contains(s, ActiveStatuses));
        await Assertions.Expect(page.Locator("tr[data-run=web-list-done]")).ToHaveCountAsync(0);

        // Stopped through the API: the open list redraws the row by itself, and with nothing active stops redrawing.
        await page.GotoAsync("/");
        using (var stop = await admin.PostAsync(new Uri("/api/runs/web-list-train/stop", UriKind.Relative), null))
        {
            Assert.True(stop.IsSuccessStatusCode);
        }

        await Assertions.Expect(page.Locator("tr[data-run=web-list-train] td[data-label=Status]")).ToHaveTextAsync("stopped");

        // The filtered table's own mark, not the row: the row is also on the page before the filter's navigation, and
        // reading the rows then raced the navigation.
        await page.SelectOptionAsync("select[name=status]", "failed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Assertions.Expect(page.Locator("#runs")).ToHaveAttributeAsync("data-status", "failed");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"\?status=failed$"));
        await Assertions.Expect(exit).ToBeVisibleAsync();
        Assert.All(await page.Locator("tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.status)"), s => Assert.Equal("failed", s));
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    [SkippableFact]
    public async Task RunsList_PagesThroughTheApisNextToken_WithoutRepeatingOrSkippingARun()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        for (var i = 0; i < 55; i++)
        {
            await admin.SubmitAsync(new { run_name = $"web-page-{i:00}", commands = new List<string> { "true" } });
        }

        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/");
        var first = await Names(page);
        Assert.Equal(50, first.Length);
        Assert.Equal("web-page-54", first[0]);
        Assert.Equal("web-page-05", first[^1]);

        await page.GetByRole(AriaRole.Link, new() { Name = "Older →" }).ClickAsync();
        await Assertions.Expect(page.Locator("tbody tr").First).ToHaveAttributeAsync("data-run", "web-page-04");
        var second = await Names(page);
        Assert.Equal(["web-page-04", "web-page-03", "web-page-02", "web-page-01", "web-page-00"], second.Take(5));
        Assert.Empty(first.Intersect(second));

        await page.GetByRole(AriaRole.Link, new() { Name = "← Newest" }).ClickAsync();
        await Assertions.Expect(page.Locator("tbody tr").First).ToHaveAttributeAsync("data-run", first[0]);

        // A token edited by hand is refused in the API's words, not with an error page.
        await page.GotoAsync("/?next_token=forged");
        await Assertions.Expect(page.Locator("p.field-error")).ToContainTextAsync("next_token");
    }

    private static async Task<string[]> Names(IPage page) =>
        await page.Locator("tbody tr").EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.run)");
}
