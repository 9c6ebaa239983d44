using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>Signing in with a user's own token, and the project switcher: each project shows its own runs and logs.</summary>
[Collection(WebPageGroup.Name)]
public sealed class ProjectsTests(WebServer server, Browser browser)
{
    [SkippableFact]
    public async Task AUserSignsInWithTheirToken_SeesTheirFirstProject_AndSwitchesToAnother()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);

        // pia: admin of lab (she creates it), user of optics (the admin adds her); not a member of main.
        using var admin = server.CreateAdminHttpClient();
        string token;
        using (var created = await admin.PostAsJsonAsync("/api/users", new CreateUserRequest("pia", GlobalRole.User), LogQuotaJson.Options))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            token = (await created.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token;
        }

        using var pia = server.CreatePlainHttpClient();
        pia.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await SendAsync(pia, HttpMethod.Post, "/api/projects", new CreateProjectRequest("lab"));
        await SendAsync(admin, HttpMethod.Post, "/api/projects", new CreateProjectRequest("optics"));
        await SendAsync(admin, HttpMethod.Put, "/api/projects/optics/members/pia", new SetMemberRequest(ProjectRole.User));
        await SendAsync(pia, HttpMethod.Post, "/api/projects/lab/runs", new SubmitRunRequest(["echo from-the-lab"], RunName: "web-team-lab"));
        await SendAsync(pia, HttpMethod.Post, "/api/projects/optics/runs", new SubmitRunRequest(["echo from-optics"], RunName: "web-team-optics"));

        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync(token);

        // Not in main: the list opens on her first project, and says which one.
        var switcher = page.Locator("#project-switch");
        await Assertions.Expect(switcher).ToHaveValueAsync("lab");
        await Assertions.Expect(page.Locator("tr[data-run=web-team-lab]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("tr[data-run=web-team-optics]")).ToHaveCountAsync(0);
        Assert.Equal(["lab (admin)", "optics (user)"], (await switcher.Locator("option").AllTextContentsAsync()).Select(o => o.Trim()));
        Assert.DoesNotContain(token, await page.ContentAsync(), StringComparison.Ordinal);

        await switcher.SelectOptionAsync("optics");
        await page.GetByRole(AriaRole.Button, new() { Name = "Switch" }).ClickAsync();
        await page.WaitForAddressAsync("/?project=optics");
        await Assertions.Expect(page.Locator("tr[data-run=web-team-optics]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("tr[data-run=web-team-lab]")).ToHaveCountAsync(0);

        // The run page of a project's run reads its log through that project's address.
        await page.Locator("tr[data-run=web-team-optics] a").ClickAsync();
        await page.WaitForAddressAsync("/runs/web-team-optics?project=optics");
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("exited (0)", new() { Timeout = 90_000 });
        await Assertions.Expect(page.Locator("#log-lines")).ToContainTextAsync("from-optics", new() { Timeout = 90_000 });
        await Assertions.Expect(switcher).ToHaveValueAsync("optics");
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));

        // main is not hers: its list answers 404 and says so, rather than showing another project's runs.
        var main = await page.GotoAsync("/?project=main");
        Assert.Equal(404, main!.Status);
        await Assertions.Expect(page.Locator("[role=alert]")).ToContainTextAsync("You are a member of no project named 'main'.");
    }

    private static async Task SendAsync(HttpClient client, HttpMethod method, string path, object body)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative)) { Content = JsonContent.Create(body, options: LogQuotaJson.Options) };
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
