using System.Text.RegularExpressions;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// Colour and storing times in the CLI, against the real server and its embedded runner running a real job on a
/// pseudo-terminal: colour when standard output is a terminal (never with <c>NO_COLOR</c>, never into a pipe), and
/// <c>--timestamps</c> before each line.
/// </summary>
[Collection(LocalServerGroup.Name)]
public sealed partial class LogColourTests(LocalServer server)
{
    private const string Job = "printf '\\033[1;31mFAILED\\033[0m test_a\\n\\033[32mPASSED\\033[0m test_b\\n'";
    private const string Plain = "FAILED test_a\nPASSED test_b\n";
    private const string Coloured = "\e[1;31mFAILED\e[0m test_a\n\e[32mPASSED\e[0m test_b\n";

    [Fact]
    public async Task Logs_OnATerminal_PrintsTheColours_ButNotIntoAPipe_NorWithNoColor()
    {
        await RunAsync("colour-logs");

        Assert.Equal(Coloured, (await Cli(terminal: true, env: null, "logs", "colour-logs")).StdoutText);
        Assert.Equal(Plain, (await Cli(terminal: false, env: null, "logs", "colour-logs")).StdoutText);
        Assert.Equal(Plain, (await Cli(terminal: true, env: ("NO_COLOR", "1"), "logs", "colour-logs")).StdoutText);
        Assert.Equal(Coloured, (await Cli(terminal: true, env: null, "logs", "-f", "colour-logs")).StdoutText);
    }

    [Fact]
    public async Task LogsTimestamps_StartsEachLineWithItsStoringTime()
    {
        await RunAsync("colour-times");

        foreach (var args in new[] { new[] { "logs", "--timestamps", "colour-times" }, ["logs", "-f", "--timestamps", "colour-times"] })
        {
            var lines = (await Cli(terminal: false, env: null, args)).StdoutText.Split('\n')[..^1];
            Assert.Equal(Plain.Split('\n')[..^1], lines.Select(l => Stamped().Match(l)).Select(m => m.Success ? m.Groups["text"].Value : $"(no time) {m}"));
        }
    }

    [SkippableFact]
    public async Task Run_InARealTerminal_ShowsTheJobsColours()
    {
        var unavailable = TmuxPane.Unavailable();
        Skip.If(unavailable is not null, unavailable);

        using var pane = TmuxPane.Start(TmuxPane.CliScript(server.CliEnvironment, ["run", "--name", "colour-tmux", "--no-code", "--", Job]), 100, 20);
        await pane.WaitForAsync(rows => rows.Contains("[exit 0]"), "the run's end");

        // tmux re-renders what it shows with its own sequences: what matters is that the words carry their colours.
        var screen = pane.ScreenWithEscapes();
        Assert.Matches(@"\e\[[0-9;]*31[0-9;]*mFAILED", screen);
        Assert.Matches(@"\e\[[0-9;]*32[0-9;]*mPASSED", screen);
        Assert.Contains(Plain.Split('\n')[0], string.Join('\n', pane.Screen()), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (?<text>.*)$")]
    private static partial Regex Stamped();

    private async Task RunAsync(string name)
    {
        var result = await Cli(terminal: false, env: null, "run", "--name", name, "--no-code", "--", Job);
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    private async Task<CliResult> Cli(bool terminal, (string Name, string Value)? env, params string[] args)
    {
        var environment = new Dictionary<string, string>(server.CliEnvironment);
        if (env is { } extra)
        {
            environment[extra.Name] = extra.Value;
        }

        using var cli = new CliProcess(environment, stdoutIsTerminal: terminal);
        cli.Start(args);
        var result = await cli.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
