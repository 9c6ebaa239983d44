using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// A real job printing GitLab's, GitHub's and Buildkite's section markers, end to end through the CLI, the server and the
/// runner: <c>logs</c> prints the stored text (each section's title its first line, no marker), <c>logs --sections</c>
/// the folds with their lines and durations, nested ones indented and the failing one marked.
/// </summary>
[Collection(LocalServerGroup.Name)]
public sealed class LogSectionsTests(LocalServer server)
{
    private const string Script =
        "printf 'start\\n'; " +
        "printf '\\033[0Ksection_start:%s:build[collapsed=true]\\r\\033[0KBuilding\\n' \"$(date +%s)\"; " +
        "printf '::group::Compile\\ncc -c a.c\\n::endgroup::\\n'; " +
        "printf '\\033[0Ksection_end:%s:build\\r\\033[0K\\n' \"$(date +%s)\"; " +
        "printf -- '--- Tests\\nok\\n'; " +
        "printf -- '+++ Deploy\\nno route\\n'; exit 4";

    [Fact]
    public async Task Logs_PrintsTheTextWithoutMarkers_AndSectionsListsTheFolds()
    {
        var run = await Cli("run", "--name", "e2e-sections", "--", Script);
        Assert.Equal(4, run.ExitCode);

        var logs = await Cli("logs", "e2e-sections");
        Assert.Equal("start\nBuilding\nCompile\ncc -c a.c\nTests\nok\nDeploy\nno route\n", logs.StdoutText);

        var sections = await Cli("logs", "e2e-sections", "--sections");
        Assert.True(sections.ExitCode == 0, sections.ToString());
        var rows = sections.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(row => System.Text.RegularExpressions.Regex.Replace(row, @"\d+\.\d s|\d+ (min|s)( \d+ s)?", "T"))
            .Select(row => System.Text.RegularExpressions.Regex.Replace(row, " +", " "))
            .ToList();
        Assert.Equal(["2-4 T Building", "3-4 T Compile", "5-6 T Tests", "7- T Deploy (failed)"], rows);
        Assert.Contains("   Compile", sections.StdoutText, StringComparison.Ordinal); // nested under Building

        var mixed = await Cli("logs", "e2e-sections", "--sections", "-f");
        Assert.Equal(2, mixed.ExitCode);
        Assert.Contains("--sections lists the log's folds", mixed.Stderr, StringComparison.Ordinal);
    }

    private Task<CliResult> Cli(params string[] args) => CliProcess.RunAsync(server.CliEnvironment, args);
}
