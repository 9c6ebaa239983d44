using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>Job output is hostile data: markup, script, ANSI and invalid UTF-8 in a log render as text, and nothing
/// in it runs (no dialog, no console error from a blocked script, no global it tries to set).</summary>
[Collection(WebPageGroup.Name)]
public sealed class OutputIsDataTests(WebServer server, Browser browser)
{
    private const string Hostile =
        """printf '<script>alert(1)</script>\n<img src=x onerror="window.__pwned=1;alert(2)">\n<b>bold</b> &amp; <a href="javascript:alert(3)">link</a>\n\033[31mred\033[0m plain\n\377\376 invalid\n'; while true; do echo '<script>window.__pwned=2</script>'; done""";

    [SkippableFact]
    public async Task AHostileLog_RendersAsText_InTheLogTheQuotaReportAndTheSpec_AndNoScriptRuns()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new { run_name = "web-xss", commands = new List<string> { Hostile }, log_quota_hour = 4000 });
        await admin.WaitForEndAsync("web-xss");
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-xss");
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("the whole log");

        var text = string.Join("\n", await page.Locator("#log-lines .ln:not(.marker)").AllTextContentsAsync());
        Assert.StartsWith(
            "<script>alert(1)</script>\n" +
            "<img src=x onerror=\"window.__pwned=1;alert(2)\">\n" +
            "<b>bold</b> &amp; <a href=\"javascript:alert(3)\">link</a>\n" +
            "red plain\n" +
            "\uFFFD\uFFFD invalid\n" +
            "<script>window.__pwned=2</script>\n",
            text,
            StringComparison.Ordinal);

        // The repeated line in the quota report and the command in the job spec are text too.
        await Assertions.Expect(page.Locator(".top-lines code").First).ToHaveTextAsync("<script>window.__pwned=2</script>");
        await Assertions.Expect(page.Locator(".commands pre")).ToHaveTextAsync(Hostile);

        foreach (var container in new[] { "#live", ".top-lines code", ".commands pre", ".events li" })
        {
            Assert.Equal(0, await page.Locator($"{container} *:not(time):not(code):not(.line):not(.lnum):not(.text):not(.nl)").CountAsync());
        }

        // A log line holds the page's own line row (number link, text, kept newline) and spans only: one per line, and
        // one per coloured stretch (the red above), built from data; its only links go to its own lines.
        await Assertions.Expect(page.Locator("#log-lines .line").First).ToBeAttachedAsync();
        Assert.Equal(0, await page.Locator("#log-lines .ln *:not(span):not(div.line):not(a.lnum)").CountAsync());
        Assert.All(await page.Locator("#log-lines a").EvaluateAllAsync<string[]>("links => links.map(a => a.getAttribute('href'))"),
            href => Assert.Matches("^#L[0-9]+$", href));

        Assert.Equal(0, await page.Locator("main img, main script, main b").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("window.__pwned === undefined"));
        await page.Locator("#log-start").ClickAsync();
        await Assertions.Expect(page.Locator("#log-lines .ln").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^<script>alert\\(1\\)</script>\n"));
        Assert.True(tab.Dialogs.IsEmpty, string.Join("\n", tab.Dialogs));
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));

        // The list shows it like any other failed run.
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("tr[data-run=web-xss] td.error")).ToContainTextAsync("log quota exceeded");
        Assert.True(tab.Dialogs.IsEmpty, string.Join("\n", tab.Dialogs));
    }
}
