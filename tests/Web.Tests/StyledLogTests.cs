using System.Text.RegularExpressions;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>
/// The run page draws a job's colours and links from the stored style runs, never from markup: a coloured word is a
/// span whose colour the page set, an allowed link is a link, a refused one is text, and markup in the same log stays
/// text that runs nothing. The "Times" toggle shows the time each line was stored.
/// </summary>
[Collection(WebPageGroup.Name)]
public sealed partial class StyledLogTests(WebServer server, Browser browser)
{
    // A coloured stretch: not a line's own span (.l) nor the numbered line row's text or kept newline (.text, .nl).
    private const string Stretch = "#log-lines span:not(.l):not(.text):not(.nl)";

    private const string Job =
        """printf '\033[1;31mFAILED\033[0m test_a\n\033[38;5;208mor\033[48;2;0;0;139mange\033[0m\n\033]8;;https://example.com/doc\033\\docs\033]8;;\033\\ and \033]8;;javascript:alert(1)\033\\evil\033]8;;\033\\\n\033[32m<img src=x onerror="window.__pwned=1">\033[0m<script>window.__pwned=2</script>\n'""";

    [SkippableFact]
    public async Task Colours_AreRenderedFromData_AnXssLogStaysInert_AndTimesToggle()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new { run_name = "web-colour", commands = new List<string> { Job } });
        await admin.WaitForEndAsync("web-colour");
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-colour");
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("the whole log");

        // The page numbers its lines once the server has counted them; the stretches are read in their numbered rows.
        await Assertions.Expect(page.Locator("#log-lines .line .lnum[data-line='4']")).ToBeAttachedAsync();
        var text = string.Join("\n", await page.Locator("#log-lines .line .text").AllTextContentsAsync());
        Assert.Equal("FAILED test_a\norange\ndocs and evil\n<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>", text);

        var failed = page.Locator(Stretch, new() { HasTextString = "FAILED" });
        Assert.Equal("rgb(205, 49, 49)", await Style(failed, "color"));
        Assert.Equal("700", await Style(failed, "fontWeight"));
        Assert.Equal("rgb(255, 135, 0)", await Style(page.Locator(Stretch, new() { HasTextString = "or" }).First, "color"));
        var ange = page.Locator(Stretch, new() { HasTextString = "ange" });
        Assert.Equal("rgb(0, 0, 139)", await Style(ange, "backgroundColor"));
        Assert.Equal("rgb(13, 188, 121)", await Style(page.Locator(Stretch, new() { HasTextString = "<img" }), "color"));

        // The allowed link is a link; the javascript: one is plain text.
        var links = page.Locator("#log-lines a:not(.lnum)");
        await Assertions.Expect(links).ToHaveCountAsync(1);
        await Assertions.Expect(links).ToHaveTextAsync("docs");
        await Assertions.Expect(links).ToHaveAttributeAsync("href", "https://example.com/doc");
        await Assertions.Expect(links).ToHaveAttributeAsync("rel", "noopener noreferrer nofollow");

        // Nothing of the markup became an element, and nothing of it ran.
        Assert.Equal(0, await page.Locator("#log-lines .ln *:not(span):not(a):not(div.line)").CountAsync());
        Assert.True(await page.EvaluateAsync<bool>("window.__pwned === undefined"));
        Assert.True(tab.Dialogs.IsEmpty, string.Join("\n", tab.Dialogs));
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));

        // Times: off by default, then one before every line, then off again; never part of the text.
        var firstLine = page.Locator("#log-lines .l").First;
        Assert.Equal("none", await Before(firstLine));
        await page.Locator("#log-times").CheckAsync();
        var stored = await page.Locator("#log-lines .l").AllAsync();
        Assert.Equal(4, stored.Count); // one time for each line, however many colours it has
        foreach (var line in stored)
        {
            Assert.Matches(Stamp(), await Before(line));
        }

        Assert.Equal(text, string.Join("\n", await page.Locator("#log-lines .ln").AllTextContentsAsync()));
        await page.Locator("#log-times").UncheckAsync();
        Assert.Equal("none", await Before(firstLine));
    }

    [GeneratedRegex("""^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z "$""")]
    private static partial Regex Stamp();

    private static Task<string> Style(ILocator element, string property) =>
        element.EvaluateAsync<string>($"e => getComputedStyle(e).{property}");

    private static Task<string> Before(ILocator element) =>
        element.EvaluateAsync<string>("e => getComputedStyle(e, '::before').content");
}
