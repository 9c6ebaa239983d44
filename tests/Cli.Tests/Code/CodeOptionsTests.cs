using LogQuota.Cli.Commands;
using LogQuota.Cli.Terminal;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.Code;

/// <summary><c>--code</c>, <c>--no-code</c> and <c>--working-dir</c> as the command line takes them.</summary>
public sealed class CodeOptionsTests
{
    [Fact]
    public void TheOptions_AreParsed()
    {
        var parse = Parse("run", "--code", "../project", "--working-dir", "outputs/run1", "--", "python3", "train.py");

        Assert.Empty(parse.Errors);
        Assert.Equal("../project", parse.GetValue<string?>("--code"));
        Assert.Equal("outputs/run1", parse.GetValue<string?>("--working-dir"));
        Assert.False(parse.GetValue<bool>("--no-code"));
        Assert.True(Parse("run", "--no-code", "--", "true").GetValue<bool>("--no-code"));
    }

    [Theory]
    [InlineData("error: --code and --no-code cannot be used together (see 'logquota run --help')", "run", "--code", "x", "--no-code", "--", "true")]
    [InlineData("error: --working-dir must not contain '..'; got '../elsewhere' (see 'logquota run --help')", "run", "--working-dir", "../elsewhere", "--", "true")]
    [InlineData("error: --working-dir must not contain '..'; got '/srv/../etc' (see 'logquota run --help')", "run", "--working-dir", "/srv/../etc", "--", "true")]
    [InlineData("error: --working-dir must be a path without NUL characters, of 1 to 4095 bytes (see 'logquota run --help')", "run", "--working-dir", "", "--", "true")]
    public async Task BadCombinationsAndPaths_AreOneLine_AndExitTwo(string expected, params string[] args)
    {
        var result = await CliProcess.RunAsync(null, args);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal([expected], result.StderrLines);
    }

    [Theory]
    [InlineData("outputs")]
    [InlineData("a/b/c")]
    [InlineData("/scratch/run-1")]
    [InlineData(".")]
    public void AcceptableWorkingDirs_PassTheCheck(string dir) => Assert.Null(CodeOptions.CheckWorkingDir(dir));

    [Fact]
    public void AWorkingDirLongerThanPathMax_IsRefused() =>
        Assert.NotNull(CodeOptions.CheckWorkingDir(new string('a', 4096)));

    [Fact]
    public async Task RunFromTheHomeDirectory_IsRefusedBeforeAnythingIsPacked()
    {
        using var home = new ProjectTree();
        home.Write("Downloads/huge.iso", "pretend");
        using var stderr = new StringWriter { NewLine = "\n" };
        using var console = new CliConsole(Stream.Null, stderr)
        {
            GetEnvironmentVariable = name => name == "DSTACK_SERVER_URL" ? "http://127.0.0.1:9" : null,
            HomeDirectory = home.Root,
            CurrentDirectory = home.Root,
        };

        var exit = await Program.RunAsync(["run", "--", "true"], console, CancellationToken.None);

        Assert.Equal(2, exit);
        Assert.Equal(
            $"error: logquota run sends the current directory as the job's code, and {home.Root} is your home or the root directory: cd into a project, or pass --code DIR or --no-code\n",
            stderr.ToString());
    }

    [Fact]
    public async Task Help_ListsTheCodeOptions()
    {
        var result = await CliProcess.RunAsync(null, "run", "--help");

        Assert.Contains("--code <DIR>", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("--no-code", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("--working-dir <DIR>", result.StdoutText, StringComparison.Ordinal);
    }

    private static System.CommandLine.ParseResult Parse(params string[] args)
    {
        using var console = new CliConsole(Stream.Null, TextWriter.Null);
        return Program.BuildRootCommand(console).Parse(args);
    }
}
