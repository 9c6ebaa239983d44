using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LogQuota.Web.Tests.Infrastructure;
using Microsoft.Playwright;

namespace LogQuota.Web.Tests;

/// <summary>Following a running job: stored lines are appended as they are stored, the live region below them is
/// redrawn in place, and pause really stops the view.</summary>
[Collection(WebPageGroup.Name)]
public sealed partial class FollowTests(WebServer server, Browser browser)
{
    // 30 stored lines 0.1 s apart, then 40 frames of two nested bars redrawn in place with "\r" and CSI A, as tqdm
    // draws them, 0.15 s apart.
    private const string Job =
        "i=0; while [ $i -lt 60 ]; do i=$((i+1)); echo \"step $i\"; sleep 0.1; done; " +
        "j=0; while [ $j -lt 40 ]; do j=$((j+1)); printf '\\router %3d%%\\n\\rinner %3d%%\\033[A' $j $j; sleep 0.15; done; " +
        "printf '\\n\\n'; echo trained";

    [SkippableFact]
    public async Task RunPage_FollowsARunningJob_StoredLinesAppear_BarsMoveInPlace_AndPauseHoldsTheView()
    {
        Skip.If(browser.Unavailable is not null, browser.Unavailable);
        using var admin = server.CreateAdminHttpClient();
        await using var tab = await browser.OpenAsync(server.Url);
        var page = tab.Page;
        await tab.SignInAsync();
        await admin.SubmitAsync(new { run_name = "web-follow", commands = new List<string> { Job } });
        await page.GotoAsync("/runs/web-follow");
        var stored = page.Locator("#log-lines");

        // Stored lines arrive while the run is running, without a reload, over one event stream: from "step 3" to
        // "step 20" the page asks for the log at most once more (a request per stored page was the long poll's way).
        await Assertions.Expect(stored).ToContainTextAsync("step 3");
        var logReads = 0;
        void CountLogReads(object? sender, IRequest request)
        {
            if (new Uri(request.Url).AbsolutePath.EndsWith("/logs", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref logReads);
            }
        }

        page.Request += CountLogReads;
        await Assertions.Expect(stored).ToContainTextAsync("step 20");
        page.Request -= CountLogReads;
        Assert.True(logReads <= 1, $"the page read the log {logReads} times while it followed 17 stored lines");
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("running");

        // Pause: the job goes on storing lines, the view does not move.
        await page.GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(page.Locator("#log-status")).ToContainTextAsync("paused");
        var held = await stored.TextContentAsync() ?? "";

        // A line the paused view cannot have shown: two past the last one it holds. How far the view got before the
        // pause took hold depends on how busy the machine is (the job stores ten lines a second), not on the page.
        var last = StepNumber().Matches(held).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
        Assert.True(last + 2 <= 60, $"the view held step {last} before the pause took hold; the job has only 60 steps");
        var unseen = $"step {last + 2}";
        await Runs.UntilAsync(() => admin.GetLogTextAsync("web-follow", "job"), b => Encoding.UTF8.GetString(b).Contains(unseen + "\n", StringComparison.Ordinal), $"{unseen} to be stored");
        // The page's own signal that it had its chance to move: two of its polls of the run answered after that line was
        // stored (the second was sent after the first answer, so after that line was stored).
        for (var poll = 0; poll < 2; poll++)
        {
            await page.WaitForResponseAsync(r => new Uri(r.Url).AbsolutePath == "/web/api/runs/web-follow");
        }

        Assert.Equal(held, await stored.TextContentAsync());

        await page.GetByRole(AriaRole.Button, new() { Name = "Follow" }).ClickAsync();
        await Assertions.Expect(stored).ToContainTextAsync(unseen);

        // The bars: two rows in the live region, redrawn in place (a later frame replaces an earlier one on the same
        // two rows), and not among the stored lines while the job still redraws them.
        var first = await LiveFrameAsync(page, p => p is > 0 and < 25);
        var later = await LiveFrameAsync(page, p => p > first && p < 40);
        Assert.True(later > first);
        Assert.DoesNotContain("outer", await stored.TextContentAsync(), StringComparison.Ordinal);

        // At the end the final frame is stored once, and the page shows exactly what was stored.
        await Assertions.Expect(page.Locator("#run-status")).ToHaveTextAsync("exited (0)");
        var log = Encoding.UTF8.GetString(await admin.GetLogTextAsync("web-follow", "job"));
        Assert.EndsWith("step 60\nouter  40%\ninner  40%\ntrained\n", log, StringComparison.Ordinal);
        await Assertions.Expect(page.Locator("#live")).ToBeHiddenAsync();
        await Assertions.Expect(stored).ToContainTextAsync("trained");
        var shown = await page.Locator("#log-lines .ln:not(.marker)").AllTextContentsAsync();
        Assert.Equal(log, string.Join("\n", shown) + "\n");
        Assert.True(tab.ConsoleProblems.IsEmpty, string.Join("\n", tab.ConsoleProblems));
    }

    /// <summary>Waits for the live region to show both bars, one row each, at a percentage <paramref name="wanted"/>
    /// accepts; returns it. Every frame seen on the way must be well formed: two rows that agree, nothing else.</summary>
    private static async Task<int> LiveFrameAsync(IPage page, Func<int, bool> wanted)
    {
        var deadline = DateTime.UtcNow + Browser.Timeout;
        while (true)
        {
            var live = await page.EvaluateAsync<string>("document.getElementById('live').hidden ? '' : document.getElementById('live').textContent");
            if (live.Length > 0 && live.Contains("outer", StringComparison.Ordinal))
            {
                var match = BarsFrame().Match(live);
                Assert.True(match.Success, $"The live region is not one outer and one inner bar: {live}");
                var percent = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
                Assert.Equal(match.Groups[1].Value, match.Groups[2].Value);
                if (wanted(percent))
                {
                    return percent;
                }
            }

            Assert.True(DateTime.UtcNow < deadline, $"The live region never showed the wanted frame; last: {live}");
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"^outer +(\d+)%\ninner +(\d+)%$")]
    private static partial Regex BarsFrame();

    /// <summary>The step numbers in the view's text (its lines come without separators).</summary>
    [GeneratedRegex(@"step (\d+)")]
    private static partial Regex StepNumber();
}
