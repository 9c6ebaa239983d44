using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>
/// The run page's folds, from a real job's GitLab, GitHub and Buildkite markers: a collapsed section folds and unfolds,
/// the failing one is open by default and marked, each header shows its duration, a search hit or a <c>#L</c> link
/// inside a folded section opens it, and the log's text stays the stored text (no marker, no caret).
/// </summary>
[Collection(WebPageGroup.Name)]
public sealed class SectionFoldsTests(WebServer server, Browser browser)
{
    // Lines: 1 start, 2 Building (folded: 3-5), 6 Install (GitHub, folded: 7-8), 9 Deploy (folded by its marker, failing: 10-11).
    private const string Job =
        "printf 'start\\n'; " +
        "printf '\\033[0Ksection_start:%s:build[collapsed=true]\\r\\033[0KBuilding\\n' \"$(date +%s)\"; " +
        "printf 'compile a\\ncompile b\\ncompile c\\n'; " +
        "printf '\\033[0Ksection_end:%s:build\\r\\033[0K\\n' \"$(date +%s)\"; " +
        "printf '::group::Install\\nnpm ci\\nadded 12 packages\\n::endgroup::\\n'; " +
        "printf -- '--- Deploy\\ndeploying\\nerror: no route to host\\n'; exit 3";

    private const string Text =
        "start\nBuilding\ncompile a\ncompile b\ncompile c\nInstall\nnpm ci\nadded 12 packages\nDeploy\ndeploying\nerror: no route to host";

    [SkippableFact]
    public async Task ASection_FoldsAndUnfolds_AndTheFailingOneIsOpen()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        await using var tab = await OpenSignedInAsync("web-folds");
        var page = tab.Page;
        await page.GotoAsync("/runs/web-folds");
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("the whole log");
        await Assertions.Expect(page.Locator(".line.fold-head")).ToHaveCountAsync(3);

        // Folded as the markers asked: the bodies of build and Install are hidden, their headers shown.
        await Assertions.Expect(page.Locator("#L2")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#L3")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#L5")).ToBeHiddenAsync();
        await Assertions.Expect(page.Locator("#L7")).ToBeHiddenAsync();
        var build = page.Locator("#L2 button.fold");
        await Assertions.Expect(build).ToHaveAttributeAsync("aria-expanded", "false");
        Assert.Matches(@"^\d+(\.\d)? s$", await page.Locator("#L2 .fold-time").GetAttributeAsync("data-text"));

        // The failing section is open although its marker (---) asked it folded, and says it failed.
        await Assertions.Expect(page.Locator("#L9")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("fold-failed"));
        await Assertions.Expect(page.Locator("#L9 button.fold")).ToHaveAttributeAsync("aria-expanded", "true");
        await Assertions.Expect(page.Locator("#L11")).ToBeVisibleAsync();
        Assert.EndsWith("failed", await page.Locator("#L9 .fold-time").GetAttributeAsync("data-text"), StringComparison.Ordinal);

        // Unfold, fold again.
        await build.ClickAsync();
        await Assertions.Expect(page.Locator("#L3")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#L5 .text")).ToHaveTextAsync("compile c");
        await Assertions.Expect(build).ToHaveAttributeAsync("aria-expanded", "true");
        await build.ClickAsync();
        await Assertions.Expect(page.Locator("#L3")).ToBeHiddenAsync();

        // A search hit inside the folded Install section opens it.
        await page.Locator("#search-q").FillAsync("added 12");
        await page.Locator("#search-q").PressAsync("Enter");
        await Assertions.Expect(page.Locator("#search-count")).ToHaveTextAsync("1 of 1");
        await Assertions.Expect(page.Locator("#L8")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#L6 button.fold")).ToHaveAttributeAsync("aria-expanded", "true");

        // The folds add no text: the log reads as stored, markers gone.
        Assert.Equal(Text, string.Join("\n", await page.Locator("#log-lines .line .text").AllTextContentsAsync()));
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    [SkippableFact]
    public async Task ALineLink_IntoAFoldedSection_OpensIt()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        await using var tab = await OpenSignedInAsync("web-folds-link");
        var page = tab.Page;

        await page.GotoAsync("/runs/web-folds-link#L4");

        await Assertions.Expect(page.Locator(".line.fold-head")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("#L4")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#L4")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("target"));
        await Assertions.Expect(page.Locator("#L2 button.fold")).ToHaveAttributeAsync("aria-expanded", "true");
        await Assertions.Expect(page.Locator("#L7")).ToBeHiddenAsync(); // the other folded section stays folded
    }

    [SkippableFact]
    public async Task FailedReads_OfWhereLinesStart_AndOfTheSections_AreAskedAgain()
    {
        // Under load the server may answer a read 503 (the database busy), or a read may fail on the way. An ended run's
        // window never changes again, so a read of where its lines start that failed once left it unnumbered for good:
        // no #L rows and so no folds (.ci/stress run 4 on 97f59a6); a failed first read of its lines left it empty. Here the
        // browser's first reads of each fail.
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        await using var tab = await OpenSignedInAsync("web-folds-retry");
        var busy = new BusyReads(tab.Page);
        var anchors = await busy.FailFirstAsync(url => url.Contains("/web-folds-retry/logs?", StringComparison.Ordinal) && url.Contains("line=", StringComparison.Ordinal), 2);
        var sections = await busy.FailFirstAsync(url => url.EndsWith("/web-folds-retry/sections", StringComparison.Ordinal), 1);
        var lastLines = await busy.FailFirstAsync(url => url.Contains("/web-folds-retry/logs?", StringComparison.Ordinal) && url.Contains("descending=true", StringComparison.Ordinal), 1);

        await tab.Page.GotoAsync("/runs/web-folds-retry");

        await Assertions.Expect(tab.Page.Locator("#log-status")).ToContainTextAsync("the whole log");
        await Assertions.Expect(tab.Page.Locator(".line.fold-head")).ToHaveCountAsync(3);
        await Assertions.Expect(tab.Page.Locator("#L3")).ToBeHiddenAsync();
        await Assertions.Expect(tab.Page.Locator("#L11 .text")).ToHaveTextAsync("error: no route to host");
        Assert.Equal(4, busy.Failed.Count); // the first read of the log's end, the two first of where lines start, the first of the sections
        Assert.True(lastLines() >= 2, $"the log's end was read {lastLines()} time(s)");
        Assert.True(anchors() >= 4, $"where lines start was read {anchors()} time(s)");
        Assert.True(sections() >= 2, $"the sections were read {sections()} time(s)");
        // The browser reports each 503 on its console; nothing else may be there.
        Assert.All(tab.ConsoleProblems, problem => Assert.Contains("503", problem, StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task ALineLink_WhoseReadFails_IsReadAgain_AndOpensItsSection()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        await using var tab = await OpenSignedInAsync("web-folds-link-retry");
        var busy = new BusyReads(tab.Page);
        await busy.FailFirstAsync(url => url.Contains("/web-folds-link-retry/logs?", StringComparison.Ordinal) && url.Contains("line=4", StringComparison.Ordinal), 1);

        await tab.Page.GotoAsync("/runs/web-folds-link-retry#L4");

        await Assertions.Expect(tab.Page.Locator("#L4")).ToBeVisibleAsync();
        await Assertions.Expect(tab.Page.Locator("#L4")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("target"));
        await Assertions.Expect(tab.Page.Locator("#L2 button.fold")).ToHaveAttributeAsync("aria-expanded", "true");
        await Assertions.Expect(tab.Page.Locator("#search-count")).ToHaveTextAsync(""); // the failure's message is gone
        Assert.Single(busy.Failed); // read again, or found numbered by then: either way the link was followed after its read failed
    }

    /// <summary>Runs the job to its end as <paramref name="name"/> and opens a signed-in tab.</summary>
    private async Task<BrowserPage> OpenSignedInAsync(string name)
    {
        await RunAsync(name);
        var tab = await browser.OpenAsync(server.Url);
        await tab.SignInAsync();
        return tab;
    }

    private async Task RunAsync(string name)
    {
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new { run_name = name, commands = new List<string> { Job } });
        await admin.WaitForEndAsync(name);
    }
}
