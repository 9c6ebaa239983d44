using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary><c>logquota projects</c> and <c>logquota projects budget</c> against the real server, its real runner and a real job.</summary>
public sealed class ProjectsCommandTests
{
    [Fact]
    public async Task Projects_ShowsEachBudgetsUsageBar_AfterABudgetIsSetWithUnits()
    {
        await using var server = new LocalServer();
        await ((IAsyncLifetime)server).InitializeAsync();
        Task<CliResult> Cli(params string[] args) => CliProcess.RunAsync(server.CliEnvironment, args);

        var bad = await Cli("projects", "budget", "main", "lots");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("SIZE must be a number of bytes, such as 1048576 or 1GiB (0 removes the budget); got 'lots'", bad.Stderr, StringComparison.Ordinal);

        var unknown = await Cli("projects", "budget", "nowhere", "1MiB");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal(["error: You are a member of no project named 'nowhere'."], unknown.StderrLines);

        var set = await Cli("projects", "budget", "main", "1KiB", "--action", "truncate");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal("project main: log budget 1.0KiB/h (truncate), 0B used this hour\n", set.StdoutText);

        // 100 lines of 11 bytes: 1100 bytes written, the 93 whole lines that fit in 1024 stored.
        var run = await Cli("run", "--name", "chatty", "--no-code", "--", "for i in $(seq 1 100); do echo 0123456789; done");
        Assert.True(run.ExitCode == 0, run.ToString());

        var list = await Cli("projects");
        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "ROLE", "BUDGET", "USED", "RESETS"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^main\s+admin\s+1\.0KiB/h truncate\s+\[#{29}-\] 1023B \(99%\), exceeded\s+\d\d:00:00 UTC$", Assert.Single(lines[1..]).TrimEnd());

        // What filled the hour: the job's one line 100 times, and the 7 lines the budget dropped, all kept.
        var show = await Cli("projects", "show", "main");
        Assert.True(show.ExitCode == 0, show.ToString());
        var shown = show.StdoutText.Split('\n');
        Assert.Contains("log budget: 1.0KiB/h, action truncate", shown);
        Assert.Contains(shown, l => l.StartsWith("  in the hour from ", StringComparison.Ordinal) && l.EndsWith(" UTC, the last that crossed:", StringComparison.Ordinal));
        Assert.Contains("    1023B stored, 77 bytes (7 lines) dropped", shown);
        Assert.Contains("           100×  0123456789  (run chatty)", shown);
        Assert.Contains("    the last 77B dropped, 7 lines:", shown);
        Assert.Equal(7, shown.Count(l => l == "      [chatty] 0123456789"));

        var missing = await Cli("projects", "show", "nowhere");
        Assert.Equal(["error: You are a member of no project named 'nowhere'."], missing.StderrLines);
    }
}
