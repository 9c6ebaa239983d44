using Microsoft.Playwright;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright, launched once per test collection. Playwright's own browser download is
/// not used (and not available here); where Chromium or Playwright's driver is missing, <see cref="Unavailable"/>
/// says why and the tests skip.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>
    /// Every wait of a browser test ends by then: a broken page fails the test, it never hangs it. Sized for a loaded
    /// machine (two cores shared with other work, where Chromium, the server and a job's runner all compete).
    /// </summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // Without the background-networking flags Chromium keeps dialling Google services, which the closed network
    // here refuses, and its start-up slows down; the sandbox needs user namespaces a root container may not allow.
    private static readonly string[] Args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
    ];

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Why the browser tests cannot run here, or null.</summary>
    public string? Unavailable { get; private set; }

    public IBrowser Instance => _browser ?? throw new InvalidOperationException(Unavailable);

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
        {
            Unavailable = $"Chromium is not installed at {ChromiumPath} (apt-get install chromium; .ci/chromium.sh does)";
            return;
        }

        // Jobs on two shared cores take their time; an expectation waits as long as any other wait here.
        Assertions.SetDefaultExpectTimeout((float)Timeout.TotalMilliseconds);
        try
        {
            _playwright = await Playwright.CreateAsync();
            _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ChromiumPath,
                Headless = true,
                Args = Args,
                Timeout = (float)Timeout.TotalMilliseconds,
            });
        }
        catch (PlaywrightException e)
        {
            Unavailable = $"Chromium could not be started by Playwright: {e.Message.Split('\n')[0]}";
        }
    }

    /// <summary>A fresh browser context (no cookies) and page; console errors, page errors and dialogs are recorded.</summary>
    public async Task<BrowserPage> OpenAsync(Uri baseUrl, ViewportSize? viewport = null, ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await Instance.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl.ToString(),
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 },
            ColorScheme = colorScheme,
            AcceptDownloads = true,
        });
        context.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
        context.SetDefaultNavigationTimeout((float)Timeout.TotalMilliseconds);
        var page = await context.NewPageAsync();
        return new BrowserPage(context, page);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }
}
