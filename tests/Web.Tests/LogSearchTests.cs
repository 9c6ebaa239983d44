using System.Net.Http.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>The run page's line numbers, search with hit navigation and <c>#L</c> links, on a log larger than the
/// page's window (about 256 KiB), so that a hit or a linked line far from the end makes the page load its part.</summary>
[Collection(WebPageGroup.Name)]
public sealed class LogSearchTests(WebServer server, Browser browser)
{
    // 30,000 lines of 30 bytes (about 900 KB), with "needle here" after row 100: far before the window the page opens at the end.
    private const string Job = "seq 1 30000 | awk '{ print \"row-\" $1 \" padding padding\"; if ($1 == 100) print \"needle here\" }'";

    [SkippableFact]
    public async Task SearchHit_FarFromTheEnd_IsNavigatedTo_AndNextMovesToTheSecond()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await LongRunAsync(admin, "web-search");
        var needle = await LineOfAsync(admin, "web-search", "needle");
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-search");
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("row-30000 padding");
        await Assertions.Expect(page.Locator("#L101")).ToHaveCountAsync(0);

        // Any case, as the server searches by default.
        await page.Locator("#search-q").FillAsync("NEEDLE");
        await page.Locator("#search-q").PressAsync("Enter");
        await Assertions.Expect(page.Locator("#search-count")).ToHaveTextAsync("1 of 1");
        var hit = page.Locator($"#L{needle}");
        await Assertions.Expect(hit).ToHaveClassAsync("line current");
        await Assertions.Expect(hit.Locator(".text")).ToHaveTextAsync("needle here");
        await Assertions.Expect(hit).ToBeInViewportAsync();

        // Every line has its number: the ones around the hit count on from it.
        await Assertions.Expect(page.Locator($"#L{needle - 1} .text")).ToHaveTextAsync("row-100 padding padding");
        await Assertions.Expect(page.Locator($"#L{needle + 1} .text")).ToHaveTextAsync("row-101 padding padding");
        await Assertions.Expect(page.Locator($"#L{needle + 1} .lnum")).ToHaveAttributeAsync("data-line", $"{needle + 1}");

        // row-2000 and row-20000 to row-20009: eleven hits, the second one far from the first.
        await page.Locator("#search-q").FillAsync("row-2000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Find" }).ClickAsync();
        await Assertions.Expect(page.Locator("#search-count")).ToHaveTextAsync("1 of 11");
        await Assertions.Expect(page.Locator(".line.current .text")).ToHaveTextAsync("row-2000 padding padding");
        await page.GetByRole(AriaRole.Button, new() { Name = "Next match" }).ClickAsync();
        await Assertions.Expect(page.Locator("#search-count")).ToHaveTextAsync("2 of 11");
        await Assertions.Expect(page.Locator(".line.current .text")).ToHaveTextAsync("row-20000 padding padding");
        await Assertions.Expect(page.Locator(".line.current")).ToBeInViewportAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Previous match" }).ClickAsync();
        await Assertions.Expect(page.Locator("#search-count")).ToHaveTextAsync("1 of 11");

        // A regular expression the server refuses: its words on the page, not a stack trace.
        await page.Locator("#search-regex").CheckAsync();
        await page.Locator("#search-q").FillAsync("(unclosed");
        await page.Locator("#search-q").PressAsync("Enter");
        await Assertions.Expect(page.Locator("#search-count")).ToContainTextAsync("not a valid regular expression");

        // The browser reports the 400 it was answered; nothing else went wrong.
        Assert.All(tab.ConsoleProblems, problem => Assert.Contains("status of 400", problem, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task LineLink_OpensThePageAtThatLine_Highlighted()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await LongRunAsync(admin, "web-lines");
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-lines#L7");

        var line = page.Locator("#L7");
        await Assertions.Expect(line).ToHaveClassAsync("line target");
        await Assertions.Expect(line.Locator(".text")).ToHaveTextAsync("row-7 padding padding");
        await Assertions.Expect(line).ToBeInViewportAsync();

        // A click on another line's number links to it.
        await page.Locator("#L9 .lnum").ClickAsync();
        await page.WaitForAddressAsync("/runs/web-lines#L9");
        await Assertions.Expect(page.Locator("#L9")).ToHaveClassAsync("line target");
        await Assertions.Expect(line).ToHaveClassAsync("line");

        // A line past the end says how long the log is.
        await page.GotoAsync("/runs/web-lines#L999999");
        await Assertions.Expect(page.Locator("#search-count")).ToContainTextAsync("There is no line 999999");
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    /// <summary>
    /// Reads of many lines first (without a terminal, sed writes 4 KiB blocks to its pipe), then twenty short lines
    /// apart. The page used to size a request's event count from the last events it saw: twenty small ones made it ask
    /// for 1,000 events of 4 KiB and the whole log landed in the window. Every request now asks for bytes (max_bytes).
    /// </summary>
    [SkippableFact]
    public async Task BigReadsThenShortLines_TheWindowHoldsAboutAPageFromTheEnd()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new
        {
            run_name = "web-window",
            tty = false,
            commands = new List<string> { "seq 1 30000 | sed 's/$/ padding padding/'; for i in $(seq 1 20); do echo tail-$i; sleep 0.05; done" },
        });
        var run = await admin.WaitForEndAsync("web-window");
        Assert.Equal(RunStatus.Done, run!.Status);

        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-window");
        var status = page.Locator("#log-status");
        await Assertions.Expect(status).ToContainTextAsync("(the end of the log); the run has ended.");
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("tail-20");

        // About 256 KiB of lines of 22 bytes (each request after the first asks for what the window lacks, so it ends
        // within one event, at most a 64 KiB read, past that): 11,900 to 15,000 lines, not the log's 30,020 (650 KB).
        var shown = long.Parse(new string([.. (await status.TextContentAsync())!.TakeWhile(c => c != 's').Where(char.IsAsciiDigit)]), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(shown, 10_000, 20_000);
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    private static async Task LongRunAsync(HttpClient admin, string runName)
    {
        await admin.SubmitAsync(new { run_name = runName, commands = new List<string> { Job } });
        var run = await admin.WaitForEndAsync(runName);
        Assert.Equal(RunStatus.Done, run!.Status);
    }

    private static async Task<long> LineOfAsync(HttpClient admin, string runName, string text)
    {
        var page = await admin.GetFromJsonAsync<LogSearchResponse>(new Uri($"/api/runs/{runName}/logs?q={text}", UriKind.Relative), LogQuotaJson.Options);
        return Assert.Single(page!.Matches).Line;
    }
}
