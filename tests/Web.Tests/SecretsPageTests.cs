using System.Text;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>The run page of a job that printed a secret shows <c>***</c> in its log and its live region, and nowhere the value.</summary>
[Collection(WebPageGroup.Name)]
public sealed class SecretsPageTests(WebServer server, Browser browser)
{
    [SkippableFact]
    public async Task TheRunPage_ShowsStars_InTheLogAndTheLiveRegion()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        var secret = "hf_" + new string([.. Enumerable.Range(0, 37).Select(_ => (char)('g' + Random.Shared.Next(20)))]);
        using var admin = server.CreateAdminHttpClient();
        using (var set = await admin.PutAsync(new Uri("/api/projects/main/secrets/WEB_SECRET", UriKind.Relative),
                   new StringContent($$"""{"value": "{{secret}}"}""", Encoding.UTF8, "application/json")))
        {
            Assert.True(set.IsSuccessStatusCode, await set.Content.ReadAsStringAsync());
        }

        await admin.SubmitAsync(new
        {
            run_name = "web-secret",
            commands = new List<string> { """printf 'key %s\n' "$WEB_SECRET"; printf 'live %s' "$WEB_SECRET"; sleep 600""" },
            secrets = new List<string> { "WEB_SECRET" },
        });
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await page.GotoAsync("/runs/web-secret");

        await Assertions.Expect(page.Locator("#log-lines .ln").First).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^key \\*\\*\\*\n?$"));
        await Assertions.Expect(page.Locator("#live")).ToContainTextAsync("live ***");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("main")).ToContainTextAsync("WEB_SECRET");

        using (await admin.PostAsync(new Uri("/api/runs/web-secret/stop", UriKind.Relative), null))
        {
        }

        await admin.WaitForEndAsync("web-secret");
    }
}
