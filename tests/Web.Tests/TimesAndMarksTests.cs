using System.Globalization;
using System.Text.RegularExpressions;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>Readable times that tick, with the exact UTC in the tooltip; a truncated run marked in the list, its dropped tail drawn as job lines.</summary>
[Collection(WebPageGroup.Name)]
public sealed partial class TimesAndMarksTests(WebServer server, Browser browser)
{
    [SkippableFact]
    public async Task Times_AreReadable_WithTheExactUtcInTheirTooltip_AndTick()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new { run_name = "web-times", commands = new List<string> { "yes | head -c 100000" }, log_quota_hour = 1000 });
        var run = await admin.WaitForEndAsync("web-times");

        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;

        // The page's clock is a fake one from the start, moved on by the test: no waiting for real minutes.
        await page.Clock.InstallAsync();
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-times");

        var submitted = page.Locator("#run-submitted");
        var exact = run!.SubmittedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);
        await Assertions.Expect(submitted).ToHaveAttributeAsync("title", exact);
        await Assertions.Expect(submitted).ToHaveTextAsync(RelativeTime());
        var ticks = await TicksAsync(page);

        await page.Clock.FastForwardAsync("03:10");
        await page.WaitForFunctionAsync("n => Number(document.documentElement.dataset.timesTicks) > n", ticks);
        await Assertions.Expect(submitted).ToHaveTextAsync("3 min ago");

        // The events' times: the clock in the reader's time zone, the exact UTC in the tooltip.
        var exceeded = page.Locator(".event-log_quota_exceeded time");
        await Assertions.Expect(exceeded).ToHaveTextAsync(LocalClock());
        await Assertions.Expect(exceeded).ToHaveAttributeAsync("title", UtcTooltip());

        // The list's times tick too.
        await page.GotoAsync("/");
        var listed = page.Locator("tr[data-run=web-times] time");
        await Assertions.Expect(listed).ToHaveAttributeAsync("title", exact);
        var before = await listed.TextContentAsync();
        await page.Clock.FastForwardAsync("02:00:00");
        await Assertions.Expect(listed).Not.ToHaveTextAsync(before!);
        await Assertions.Expect(listed).ToHaveTextAsync("2 h ago");
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    [SkippableFact]
    public async Task ATruncatedRun_IsMarkedInTheList_AndItsDroppedTailIsDrawnAsJobLines()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new
        {
            run_name = "web-truncated", commands = new List<string> { "seq 1 200" }, log_quota_hour = 100, log_quota_action = "truncate",
        });
        await admin.SubmitAsync(new { run_name = "web-whole", commands = new List<string> { "seq 1 1500" } });
        await admin.SubmitAsync(new { run_name = "web-one-line", commands = new List<string> { "echo one" } });
        var truncated = await admin.WaitForEndAsync("web-truncated");
        await admin.WaitForEndAsync("web-whole");
        await admin.WaitForEndAsync("web-one-line");
        Assert.True(truncated!.LogTruncated);

        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("tr[data-run=web-truncated] .mark-truncated")).ToHaveTextAsync("truncated");
        await Assertions.Expect(page.Locator("tr[data-run=web-whole] .mark-truncated")).ToHaveCountAsync(0);

        // The dropped tail is the job's own lines: drawn in the job's colour, not the markers'.
        await page.GotoAsync("/runs/web-truncated");
        var dropped = page.Locator("#log-lines .ln.dropped");
        await Assertions.Expect(dropped.First).ToContainTextAsync("200");
        var job = page.Locator("#log-lines .ln:not(.marker):not(.dropped)").First;
        var marker = page.Locator("#log-lines .ln.marker").First;
        await Assertions.Expect(marker).ToContainTextAsync("[logquota]");
        var droppedColour = await dropped.First.EvaluateAsync<string>("e => getComputedStyle(e).color");
        Assert.Equal(await job.EvaluateAsync<string>("e => getComputedStyle(e).color"), droppedColour);
        Assert.NotEqual(await marker.EvaluateAsync<string>("e => getComputedStyle(e).color"), droppedColour);

        // Counts read as words: one line is "1 stored line", and thousands are grouped.
        await page.GotoAsync("/runs/web-one-line");
        await Assertions.Expect(page.Locator("#log-status")).ToHaveTextAsync("1 stored line shown (the whole log); the run has ended.");
        await page.GotoAsync("/runs/web-whole");
        await Assertions.Expect(page.Locator("#log-status")).ToHaveTextAsync("1,500 stored lines shown (the whole log); the run has ended.");
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    private static Task<int> TicksAsync(IPage page) => page.EvaluateAsync<int>("() => Number(document.documentElement.dataset.timesTicks)");

    [GeneratedRegex(@"^(just now|\d+ s ago)$")]
    private static partial Regex RelativeTime();

    // A clock time of another day says which day (the fake clock may cross midnight).
    [GeneratedRegex(@"^([A-Z][a-z]{2} \d{1,2}, )?\d\d:\d\d:\d\d$")]
    private static partial Regex LocalClock();

    [GeneratedRegex(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$")]
    private static partial Regex UtcTooltip();
}
