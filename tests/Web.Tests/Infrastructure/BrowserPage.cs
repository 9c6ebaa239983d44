using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>One page in its own browser context, with everything the page said that a test must see: console
/// errors (a blocked inline script shows up there), uncaught page errors and dialogs (an <c>alert</c> from a log).</summary>
public sealed class BrowserPage : IAsyncDisposable
{
    private readonly IBrowserContext _context;

    public BrowserPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                ConsoleProblems.Enqueue($"{message.Type}: {message.Text}");
            }
        };
        page.PageError += (_, error) => ConsoleProblems.Enqueue($"page error: {error}");
        page.Dialog += async (_, dialog) =>
        {
            Dialogs.Enqueue($"{dialog.Type}: {dialog.Message}");
            await dialog.DismissAsync();
        };
    }

    public IPage Page { get; }

    public IBrowserContext Context => _context;

    public ConcurrentQueue<string> ConsoleProblems { get; } = new();

    public ConcurrentQueue<string> Dialogs { get; } = new();

    /// <summary>Signs in through the form, as a person does, and waits for the page it leads to (a right token only).</summary>
    public async Task SignInAsync(string token = WebServer.AdminToken)
    {
        await Page.GotoAsync("/signin");
        await Page.Locator("#token").FillAsync(token);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Wait for what every signed-in page shows, then check the address left the form, never for a load event (under a
        // CPU hog Playwright missed one at 30 s and at 60 s) nor with WaitForURLAsync (see PageAddress).
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).WaitForAsync(new() { Timeout = 90_000 });
        await Assertions.Expect(Page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
    }

    /// <summary>Saves a screenshot under the test results (LOGQUOTA_WEB_SCREENSHOTS, else TestResults/screenshots next to the tests).</summary>
    /// <param name="name">The file name, without ".png".</param>
    /// <param name="fullPage">The whole page, or only what the window shows (a long list).</param>
    public async Task<string> ScreenshotAsync(string name, bool fullPage = true)
    {
        var dir = Environment.GetEnvironmentVariable("LOGQUOTA_WEB_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = fullPage });
        return path;
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();
}
