using LogQuota.Runner;
using LogQuota.Runner.Configuration;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>The Runners tab: the list, adding a real runner, draining and removing it, and a refusal in the API's words.</summary>
[Collection(WebPageGroup.Name)]
public sealed class RunnersTabTests(WebServer server, Browser browser)
{
    [SkippableFact]
    public async Task RunnersTab_ListsAddsDrainsAndRemovesARealRunner_AndShowsARefusalInTheApisWords()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        var dir = Directory.CreateTempSubdirectory("logquota-web-runner-").FullName;
        try
        {
            await using var runner = RunnerApplication.Build(
                new RunnerSettings { Port = 0, Dir = dir, WorkDir = dir + "-work", Token = WebServer.RunnerToken, MaxJobs = 2, DrainPeriod = TimeSpan.Zero },
                builder => builder.Logging.ClearProviders());
            await runner.StartAsync();
            await ExerciseTabAsync(runner.Urls.First().TrimEnd('/') + "/");
            await runner.StopAsync();
        }
        finally
        {
            foreach (var path in new[] { dir, dir + "-work" }.Where(Directory.Exists))
            {
                Directory.Delete(path, recursive: true);
            }
        }
    }

    private async Task ExerciseTabAsync(string runnerUrl)
    {
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Runners" }).ClickAsync();
        await page.WaitForAddressAsync("/runners");
        var local = page.Locator("tr[data-runner=local]");
        await Assertions.Expect(local).ToHaveAttributeAsync("data-state", "active");
        await Assertions.Expect(local.Locator("button")).ToHaveCountAsync(0);

        // A runner that does not answer is refused, with the API's words, and what was typed stays.
        await page.Locator("#url").FillAsync("http://127.0.0.1:9");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add runner" }).ClickAsync();
        await Assertions.Expect(page.Locator("p.field-error[role=alert]")).ToContainTextAsync("The runner was not added: http://127.0.0.1:9/ did not answer");
        await Assertions.Expect(page.Locator("#url")).ToHaveValueAsync("http://127.0.0.1:9");

        await page.Locator("#url").FillAsync(runnerUrl);
        await page.Locator("#name").FillAsync("web-gpu");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add runner" }).ClickAsync();
        await Assertions.Expect(page.Locator("p.notice")).ToHaveTextAsync("Runner web-gpu is active.");
        var row = page.Locator("tr[data-runner=web-gpu]");
        await Assertions.Expect(row).ToHaveAttributeAsync("data-state", "active");
        await Assertions.Expect(row.Locator("td[data-label=Jobs]")).ToHaveTextAsync("0 / 2");
        await Assertions.Expect(row.Locator("td[data-label=URL]")).ToHaveTextAsync(runnerUrl);
        await tab.ScreenshotAsync("web-runners");

        await row.GetByRole(AriaRole.Button, new() { Name = "Drain web-gpu" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-runner=web-gpu]")).ToHaveAttributeAsync("data-state", "draining");
        await Assertions.Expect(page.Locator("p.notice")).ToHaveTextAsync("Runner web-gpu is draining.");

        await page.Locator("tr[data-runner=web-gpu]").GetByRole(AriaRole.Button, new() { Name = "Remove web-gpu" }).ClickAsync();
        await Assertions.Expect(page.Locator("p.notice")).ToHaveTextAsync("Runner web-gpu was removed.");
        await Assertions.Expect(page.Locator("tr[data-runner=web-gpu]")).ToHaveCountAsync(0);
        // The refused form answers with the API's status (422), which the browser notes; nothing else may be logged.
        var unexpected = tab.ConsoleProblems.Where(p => !p.Contains("status of 422", StringComparison.Ordinal)).ToList();
        Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
    }
}
