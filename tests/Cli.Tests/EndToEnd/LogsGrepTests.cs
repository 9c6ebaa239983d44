using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary><c>logquota logs RUN --grep</c> against the real server: the matching lines, numbered, grep's exit codes.</summary>
[Collection(LocalServerGroup.Name)]
public sealed class LogsGrepTests(LocalServer server)
{
    [Fact]
    public async Task Grep_PrintsMatchingLinesWithNumbers_AnyCase_AndRegexOnRequest()
    {
        var run = await Cli("run", "--name", "e2e-grep", "--", "seq 1 1200 | sed 's/^/step /'; echo 'Loss: 0.5'; echo 'loss: 0.25'");
        Assert.True(run.ExitCode == 0, run.ToString());

        // More matches than the CLI asks for in one page (500): every one printed once, in order.
        var steps = await Cli("logs", "e2e-grep", "--grep", "STEP 1");
        Assert.True(steps.ExitCode == 0, steps.ToString());
        var expected = Enumerable.Range(1, 1200).Where(i => $"step {i}".StartsWith("step 1", StringComparison.Ordinal)).Select(i => $"{i}:step {i}");
        Assert.Equal(expected, steps.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var exact = await Cli("logs", "e2e-grep", "--grep", "loss", "--match-case");
        Assert.Equal("1202:loss: 0.25\n", exact.StdoutText);

        var regex = await Cli("logs", "e2e-grep", "--grep", @"^step 12\d\d$", "--regex");
        Assert.Equal("1200:step 1200\n", regex.StdoutText);

        var none = await Cli("logs", "e2e-grep", "--grep", "no such text");
        Assert.Equal(1, none.ExitCode);
        Assert.Empty(none.StdoutText);
    }

    [Fact]
    public async Task Grep_WithABadRegex_SaysSoInOneLine_AndFollowIsRefused()
    {
        var run = await Cli("run", "--name", "e2e-grep-bad", "--", "echo one");
        Assert.True(run.ExitCode == 0, run.ToString());

        var bad = await Cli("logs", "e2e-grep-bad", "--grep", "(unclosed", "--regex");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("not a valid regular expression", bad.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", bad.Stderr, StringComparison.Ordinal);

        var follow = await Cli("logs", "e2e-grep-bad", "--grep", "one", "-f");
        Assert.Equal(2, follow.ExitCode);
        Assert.Contains("--grep searches the whole stored log", follow.Stderr, StringComparison.Ordinal);
    }

    private Task<CliResult> Cli(params string[] args) => CliProcess.RunAsync(server.CliEnvironment, args);
}
