using System.Text;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>The submit form, the runs list and the run page with real jobs on the server's embedded runner.</summary>
[Collection(WebPageGroup.Name)]
public sealed class RunPageTests(WebServer server, Browser browser)
{
    /// <summary>
    /// The address is the page's signal here; what the page shows is awaited by the assertions after it. Waiting for the
    /// load event as well failed under load: Playwright saw the new page's network go idle but never its load event.
    /// </summary>
    [SkippableFact]
    public async Task YesWithAThousandByteQuota_SubmittedFromTheForm_FailsWithLogQuotaExceeded_OnTheListAndTheRunPage()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/new");
        await page.Locator("#commands").FillAsync("yes");
        await page.Locator("#run_name").FillAsync("web-yes");
        await page.Locator("#log_quota_hour").FillAsync("1000");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).ClickAsync();
        await page.WaitForAddressAsync("/runs/web-yes");

        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("error");
        await Assertions.Expect(page.Locator("#run-error")).ToContainTextAsync("log quota exceeded");
        // Killed at the quota: the bar is full and red, and says why.
        await Assertions.Expect(page.Locator("#quota-usage .usage-text")).ToHaveTextAsync("Killed at its log quota · 1000 B of 1000 B (100%)");
        await Assertions.Expect(page.Locator("#quota-usage .bar-ended")).ToHaveAttributeAsync("aria-label", "Killed at its log quota");
        Assert.Equal(
            await page.Locator("#run-error").EvaluateAsync<string>("e => getComputedStyle(e).color"),
            await page.Locator("#quota-usage .bar-fill").EvaluateAsync<string>("e => getComputedStyle(e).backgroundColor"));
        Assert.Equal("100%", await page.Locator("#quota-usage .bar-fill").EvaluateAsync<string>("e => (100 * e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width).toFixed(0) + '%'"));
        await Assertions.Expect(page.Locator(".events")).ToContainTextAsync("log_quota_exceeded");

        // The partial log: what was stored before the kill, every line "y", at most the quota's bytes.
        using var admin = server.CreateAdminHttpClient();
        var stored = Encoding.UTF8.GetString(await admin.GetLogTextAsync("web-yes", "job"));
        var storedLines = stored.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.InRange(Encoding.UTF8.GetByteCount(stored), 2, 1000);
        Assert.All(storedLines, line => Assert.Equal("y", line));
        var shown = await page.Locator("#log-lines .ln:not(.marker)").AllTextContentsAsync();
        Assert.Equal(stored, string.Join("\n", shown) + "\n");
        await Assertions.Expect(page.Locator("#log-lines .ln.marker").First).ToContainTextAsync("[logquota]");
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("the whole log");

        // Download as text: the stored bytes, exactly.
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#log-download").ClickAsync());
        Assert.Equal("web-yes.log", download.SuggestedFilename);
        Assert.Equal(await admin.GetLogTextAsync("web-yes"), await File.ReadAllBytesAsync((await download.PathAsync())!));
        await tab.ScreenshotAsync("web-run");

        await page.GotoAsync("/");
        var row = page.Locator("tr[data-run=web-yes]");
        await Assertions.Expect(row).ToHaveClassAsync("failed");
        await Assertions.Expect(row.Locator("td.error")).ToContainTextAsync("log quota exceeded");
        await Assertions.Expect(row.Locator(".usage.ended .usage-text")).ToContainTextAsync("Killed at its log quota");
        await Assertions.Expect(row.Locator("meter")).ToHaveCountAsync(0);
        await tab.ScreenshotAsync("web-runs-quota", fullPage: false);
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    [SkippableFact]
    public async Task SubmitForm_TakesTheCliUnits_AndAnswersEveryBadFieldInOneRound_NextToItsField()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/new");

        // Four bad fields at once: two the form cannot read, two only the API refuses. One submit answers them all.
        await page.Locator("#commands").FillAsync("echo one\necho two");
        await page.Locator("#run_name").FillAsync("Bad Name!");
        await page.Locator("#log_quota_hour").FillAsync("lots");
        await page.Locator("#max_duration").FillAsync("2 hours");
        await page.Locator("#columns").FillAsync("5");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).ClickAsync();
        await Assertions.Expect(page.Locator("#run_name-error")).ToHaveTextAsync("run_name 'Bad Name!' must be a lowercase letter, then up to 40 lowercase letters, digits or dashes.");
        await Assertions.Expect(page.Locator("#log_quota_hour-error")).ToHaveTextAsync("The quota must be a size such as 100MiB or 1GiB, or a number of bytes; got 'lots'.");
        await Assertions.Expect(page.Locator("#max_duration-error")).ToHaveTextAsync("The max duration must be a duration such as 90m, 2h or 1d, or a number of seconds; got '2 hours'.");
        await Assertions.Expect(page.Locator("#columns-error")).ToHaveTextAsync("columns must be a terminal width from 20 to 1000 characters; got 5.");
        foreach (var field in new[] { "run_name", "log_quota_hour", "max_duration", "columns" })
        {
            await Assertions.Expect(page.Locator($"#{field}")).ToHaveAttributeAsync("aria-invalid", "true");
            await Assertions.Expect(page.Locator($"#{field}")).ToHaveAttributeAsync("aria-describedby", $"{field}-error");
        }

        await Assertions.Expect(page.Locator("#commands")).Not.ToHaveAttributeAsync("aria-invalid", "true");
        await Assertions.Expect(page.Locator("[role=alert]")).ToHaveTextAsync("The server refused the run: see the 4 fields marked below.");
        await Assertions.Expect(page.Locator("#commands")).ToHaveValueAsync("echo one\necho two");
        await Assertions.Expect(page.Locator("#run_name")).ToHaveValueAsync("Bad Name!");

        // A quota above the server's, said in units.
        await page.Locator("#run_name").FillAsync("web-units");
        await page.Locator("#log_quota_hour").FillAsync("100MiB");
        await page.Locator("#max_duration").FillAsync("2h");
        await page.Locator("#columns").FillAsync("80");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).ClickAsync();
        await Assertions.Expect(page.Locator("#log_quota_hour-error")).ToHaveTextAsync("log_quota_hour 100MiB is above the server's quota of 50MiB per hour; ask for 50MiB or less.");
        await Assertions.Expect(page.Locator("#max_duration")).Not.ToHaveAttributeAsync("aria-invalid", "true");

        // The CLI's units are taken: the run gets 1 MiB an hour, two hours, and an 80-column terminal.
        await page.Locator("#commands").FillAsync("tput cols");
        await page.Locator("#log_quota_hour").FillAsync("1MiB");
        await page.GetByRole(AriaRole.Button, new() { Name = "Submit run" }).ClickAsync();
        await page.WaitForAddressAsync("/runs/web-units");
        using var admin = server.CreateAdminHttpClient();
        var run = await admin.WaitForEndAsync("web-units");
        Assert.Equal(1L << 20, run!.Jobs[0].JobSpec.LogQuotaHour);
        Assert.Equal(7200, run.Jobs[0].JobSpec.MaxDuration);
        Assert.Equal("80\n", Encoding.UTF8.GetString(await admin.GetLogTextAsync("web-units", "job")));

        // A refused form is answered 400, which Chromium reports for the document; nothing else may appear.
        var unexpected = tab.ConsoleProblems.Where(p => !p.Contains("status of 400", StringComparison.Ordinal)).ToList();
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
    }

    [SkippableFact]
    public async Task StopAndDelete_AskForConfirmation_AndWorkFromTheKeyboard()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await admin.SubmitAsync(new { run_name = "web-stop", commands = new List<string> { "echo started; sleep 600" } });
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-stop");
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("running");
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("started");

        // The first click only opens the confirmation; nothing is stopped yet.
        await page.GetByText("Stop…").ClickAsync();
        Assert.Equal(Shared.Contracts.RunStatus.Running, (await admin.GetRunAsync("web-stop"))!.Status);
        await page.GetByRole(AriaRole.Button, new() { Name = "Yes, stop web-stop" }).ClickAsync();
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("stopped");
        Assert.Equal(Shared.Contracts.RunStatus.Terminated, (await admin.GetRunAsync("web-stop"))!.Status);

        // Delete by keyboard: focus the summary, Enter opens it, Tab reaches the confirmation, Enter confirms.
        await page.Locator("summary", new() { HasText = "Delete…" }).FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Yes, delete web-stop", await page.EvaluateAsync<string>("document.activeElement.textContent"));
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForAddressAsync("/?deleted=web-stop");
        await Assertions.Expect(page.Locator(".notice")).ToContainTextAsync("web-stop was deleted");
        Assert.Null(await admin.GetRunAsync("web-stop"));

        await page.GotoAsync("/runs/web-stop");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Run not found" })).ToBeVisibleAsync();
    }
}
