using System.Text;
using LogQuota.Cli.Commands;
using LogQuota.Cli.Terminal;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.Commands;

public sealed class PsCommandTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);

    private static readonly RunRow[] Runs =
    [
        Row("busy-run", RunStatus.Running, "running", null, Now.AddMinutes(-2), null, 52_428_800, 1_048_576),
        Row("chatty-run", RunStatus.Failed, "error", "log quota exceeded", Now.AddMinutes(-30), Now.AddMinutes(-29), 1024, 1024),
        Row("old-run", RunStatus.Done, "exited (0)", null, Now.AddDays(-1), Now.AddHours(-23), null, 10),
    ];

    [Fact]
    public void Table_ShowsNameStatusAndRelativeSubmitTime()
    {
        var lines = Render(Runs, verbose: false);
        Assert.Equal(["NAME", "STATUS", "SUBMITTED"], Words(lines[0]));
        Assert.Equal(["busy-run", "running", "2", "mins", "ago"], Words(lines[1]));
        Assert.Equal(["chatty-run", "error", "30", "mins", "ago"], Words(lines[2]));
        Assert.Equal(["old-run", "exited", "(0)", "yesterday"], Words(lines[3]));
        Assert.Equal(4, lines.Length);
    }

    [Fact]
    public void VerboseTable_AddsErrorQuotaLogsPerHourAndUsed()
    {
        var lines = Render(Runs, verbose: true);
        Assert.Equal(["NAME", "STATUS", "SUBMITTED", "ERROR", "QUOTA", "LOGS/HOUR", "USED"], Words(lines[0]));
        Assert.Equal(["busy-run", "running", "2", "mins", "ago", "50.0MiB/h", "1.0MiB", "2%"], Words(lines[1]));
        Assert.Equal(["chatty-run", "error", "30", "mins", "ago", "log", "quota", "exceeded", "1.0KiB/h", "1.0KiB", "100%"], Words(lines[2]));
        Assert.Equal(["old-run", "exited", "(0)", "yesterday", "unlimited", "10B", "-"], Words(lines[3]));

        // Columns line up: every value starts where its header does.
        Assert.Equal(lines[0].IndexOf("ERROR", StringComparison.Ordinal), lines[2].IndexOf("log quota", StringComparison.Ordinal));
    }

    [Fact]
    public void VerboseTable_ShowsWhatAProvisioningRunWaitsFor_InTheErrorColumn()
    {
        var waiting = Row("queued-run", RunStatus.Submitted, "provisioning", null, Now.AddMinutes(-1), null, null, 0) with { Waiting = "Slurm job 12 is pending: Resources" };

        var lines = Render([waiting], verbose: true);

        Assert.Equal(["queued-run", "provisioning", "1", "min", "ago", "Slurm", "job", "12", "is", "pending:", "Resources", "unlimited", "0B", "-"], Words(lines[1]));
        Assert.DoesNotContain("Slurm", Render([waiting], verbose: false)[1], StringComparison.Ordinal);
    }

    [Fact]
    public void PipedOutput_HasNoEscapeSequences_AndLongRowsStayOnOneLine()
    {
        var longName = new string('a', 41);
        var text = RenderText([Row(longName, RunStatus.Failed, "error", new string('x', 200), Now, Now, 1, 1)], verbose: true, terminal: false);
        Assert.DoesNotContain('\u001b', text);
        Assert.Equal(2, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Lines_DoNotEndInBlanks() =>
        Assert.All(RenderText(Runs, verbose: true, terminal: false).Split('\n'), line => Assert.Equal(line.TrimEnd(), line));

    [Fact]
    public void Terminal_ColoursFailedRowsRed()
    {
        var text = RenderText(Runs, verbose: false, terminal: true);
        var failedLine = text.Split('\n').Single(l => l.Contains("chatty-run", StringComparison.Ordinal));
        var runningLine = text.Split('\n').Single(l => l.Contains("busy-run", StringComparison.Ordinal));
        Assert.Contains("\u001b[91m", failedLine, StringComparison.Ordinal);
        Assert.Contains("\u001b[91mchatty-run", failedLine, StringComparison.Ordinal);
        Assert.Contains("\u001b[32mrunning", runningLine, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[91m", runningLine, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("NO_COLOR", "1")]
    [InlineData("TERM", "dumb")]
    public void Terminal_HonoursNoColor(string variable, string value)
    {
        var text = RenderText(Runs, verbose: false, terminal: true, new Dictionary<string, string> { [variable] = value });
        Assert.DoesNotContain('\u001b', text);
        Assert.Contains("chatty-run", text, StringComparison.Ordinal);
    }

    private static string[] Render(IEnumerable<RunRow> runs, bool verbose) =>
        RenderText(runs, verbose, terminal: false).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string RenderText(IEnumerable<RunRow> runs, bool verbose, bool terminal, Dictionary<string, string>? env = null)
    {
        using var output = new MemoryStream();
        using (var console = new CliConsole(output, TextWriter.Null)
        {
            OutputIsTerminal = terminal,
            TerminalWidth = 120,
            GetEnvironmentVariable = name => env?.GetValueOrDefault(name) ?? (name == "TERM" ? "xterm" : null),
        })
        {
            console.Write(PsCommand.BuildTable(runs, Now, verbose));
        }

        return Encoding.UTF8.GetString(output.ToArray());
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private static RunRow Row(
        string name, RunStatus status, string message, string? error, DateTimeOffset submitted, DateTimeOffset? finished, long? quota, long bytes) =>
        new(name, status, message, error, null, null, null, submitted, finished, quota, bytes);
}
