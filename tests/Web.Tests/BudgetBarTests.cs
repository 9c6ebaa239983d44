using System.Net;
using System.Net.Http.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>
/// The runs list of a project with a log budget shows the budget's usage bar for this hour, and a disclosure with the
/// evidence of the last hour that crossed; one without shows none.
/// </summary>
[Collection(WebPageGroup.Name)]
public sealed class BudgetBarTests(WebServer server, Browser browser)
{
    [SkippableFact]
    public async Task ARunsList_ShowsItsProjectsBudgetBar_FilledByWhatItsJobsStored()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();

        // The budget counts per clock hour: a bar read after the hour's turn shows the new, empty hour. An attempt that
        // the turn may have cut in two proves nothing and is made again, with a project of its own, within the new hour.
        var hour = ClockHour();
        try
        {
            await ShowsTheBarAsync(admin, page, "web-budget");
        }
        catch (Exception) when (ClockHour() != hour)
        {
            await ShowsTheBarAsync(admin, page, "web-budget-again");
        }

        await page.GotoAsync("/");
        await Assertions.Expect(page.Locator("#runs")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#runs .budget")).ToHaveCountAsync(0);
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    /// <summary>The UTC clock hour, which a project's budget counts in.</summary>
    private static DateTime ClockHour()
    {
        var now = DateTime.UtcNow;
        return new DateTime(now.Year, now.Month, now.Day, now.Hour, 0, 0, DateTimeKind.Utc);
    }

    /// <summary>One attempt: a project with a 1 KiB budget, a job that overfills it, and the bar and report shown.</summary>
    private static async Task ShowsTheBarAsync(HttpClient admin, IPage page, string project)
    {
        using (var created = await admin.PostAsync(new Uri("/api/projects", UriKind.Relative), JsonContent.Create(
            new { name = project, log_budget_hour = 1024, log_budget_action = "truncate" })))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        // seq 1 500 writes 1892 bytes: its first 1024 (lines 1 to 284, whole) fill the budget, the rest is dropped.
        using (var submitted = await admin.PostAsJsonAsync($"/api/projects/{project}/runs", new SubmitRunRequest(["seq 1 500"], RunName: $"{project}-seq"), LogQuotaJson.Options))
        {
            Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        }

        await Runs.UntilAsync(
            () => admin.GetFromJsonAsync<RunDetails>($"/api/projects/{project}/runs/{project}-seq", LogQuotaJson.Options),
            r => r?.Status == RunStatus.Done, $"{project}-seq to end");

        await page.GotoAsync($"/?project={project}");
        var bar = page.Locator("#runs .budget");
        await Assertions.Expect(bar.Locator(".usage-text")).ToHaveTextAsync("1 KiB of 1 KiB (100%)", new() { Timeout = 90_000 });
        await Assertions.Expect(bar).ToContainTextAsync($"Log budget of {project}");
        await Assertions.Expect(bar).ToContainTextAsync("truncate, resets");
        await Assertions.Expect(bar).ToContainTextAsync("exceeded");
        Assert.Equal("1024", await bar.Locator("meter").GetAttributeAsync("value"));

        // Below the bar, closed until asked: what filled the hour, with the end of what the budget dropped and whose it was.
        var report = page.Locator("#runs #budget-report");
        await Assertions.Expect(report.Locator("summary")).ToContainTextAsync("What filled the hour from");
        await Assertions.Expect(report.Locator(".dropped-tail")).Not.ToBeVisibleAsync();
        await report.Locator("summary").ClickAsync();
        await Assertions.Expect(report.Locator(".dropped-run")).ToHaveTextAsync($"{project}-seq");
        var tail = await report.Locator(".dropped-tail pre").TextContentAsync();
        Assert.Equal(string.Concat(Enumerable.Range(284, 217).Select(i => $"{i}\n")), tail);
        await Assertions.Expect(report).ToContainTextAsync("868 B (217 lines)");
    }
}
