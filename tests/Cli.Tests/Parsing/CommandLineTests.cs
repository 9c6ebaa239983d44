using LogQuota.Cli.Commands;
using LogQuota.Cli.Terminal;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.Parsing;

/// <summary>The command line as System.CommandLine parses it, and the one-line errors for what it refuses.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public void EverythingAfterDoubleDash_BelongsToTheJob_EvenWhatLooksLikeOurOptions()
    {
        var parse = Parse("run", "--name", "n1", "--", "python", "train.py", "--name", "x", "-e", "A=1", "--");
        Assert.Empty(parse.Errors);
        Assert.Equal(["python", "train.py", "--name", "x", "-e", "A=1", "--"], CommandWords(parse));
        Assert.Equal("n1", parse.GetValue<string?>("--name"));
        Assert.Null(RunCommand.FindStrayOption(parse));
    }

    [Fact]
    public void RunOptions_AreParsed()
    {
        var parse = Parse("run", "-n", "n1", "--log-quota", "50MiB", "--max-duration", "2h", "-e", "A=1", "-e", "B=x=y", "--no-tty", "--", "echo", "hi");
        Assert.Empty(parse.Errors);
        Assert.Equal(52_428_800L, parse.GetValue<long?>("--log-quota"));
        Assert.Equal(7200, parse.GetValue<int?>("--max-duration"));
        Assert.Equal(["A=1", "B=x=y"], parse.GetValue<string[]>("--env")!);
        Assert.True(parse.GetValue<bool>("--no-tty"));
        Assert.Equal(["echo", "hi"], CommandWords(parse));
    }

    [Fact]
    public void ResourceOptions_AreParsed_MemoryWithItsUnit()
    {
        var parse = Parse("run", "--cpus", "0.5", "--memory", "8GiB", "--gpus", "2", "--", "train");
        Assert.Empty(parse.Errors);
        Assert.Equal(0.5, parse.GetValue<double?>("--cpus"));
        Assert.Equal(8L << 30, parse.GetValue<long?>("--memory"));
        Assert.Equal(2, parse.GetValue<int?>("--gpus"));
    }

    [Fact]
    public void GlobalOptions_WorkBeforeAndAfterTheCommand()
    {
        Assert.Equal("http://a:1", Parse("--url", "http://a:1", "ps").GetValue<string?>("--url"));
        Assert.Equal("http://a:1", Parse("ps", "--url", "http://a:1").GetValue<string?>("--url"));
        Assert.Equal("t", Parse("logs", "r1", "--token", "t", "-f").GetValue<string?>("--token"));
    }

    [Fact]
    public void MistypedRunOption_BeforeDoubleDash_IsFound() =>
        Assert.Equal("--nmae", RunCommand.FindStrayOption(Parse("run", "--nmae", "x", "--", "echo")));

    [Theory]
    [InlineData("error: -e expects KEY=VALUE, got 'FOO' (see 'logquota run --help')", "run", "-e", "FOO", "--", "echo")]
    [InlineData("error: -e A is given more than once (see 'logquota run --help')", "run", "-e", "A=1", "-e", "A=2", "--", "echo")]
    [InlineData("error: --log-quota must be a number of bytes of at least 1, such as 1048576 or 50MiB; got '0' (see 'logquota run --help')", "run", "--log-quota", "0", "--", "echo")]
    [InlineData("error: --max-duration must be a whole number of seconds of at least 1, or a duration such as 90m or 2h; got 'soon' (see 'logquota run --help')", "run", "--max-duration", "soon", "--", "echo")]
    [InlineData("error: --cpus must be a number of CPUs from 0.01 to 4096, such as 0.5 or 2; got '0' (see 'logquota run --help')", "run", "--cpus", "0", "--", "echo")]
    [InlineData("error: --cpus must be a number of CPUs from 0.01 to 4096, such as 0.5 or 2; got 'half' (see 'logquota run --help')", "run", "--cpus", "half", "--", "echo")]
    [InlineData("error: --memory must be a size of at least 4MiB, such as 512MiB or 8GiB; got '1KiB' (see 'logquota run --help')", "run", "--memory", "1KiB", "--", "echo")]
    [InlineData("error: --memory must be a size of at least 4MiB, such as 512MiB or 8GiB; got 'lots' (see 'logquota run --help')", "run", "--memory", "lots", "--", "echo")]
    [InlineData("error: --gpus must be a whole number of GPUs, such as 1; got '1.5' (see 'logquota run --help')", "run", "--gpus", "1.5", "--", "echo")]
    [InlineData("error: --columns must be a terminal width from 20 to 1000 characters; got '19' (see 'logquota run --help')", "run", "--columns", "19", "--", "echo")]
    [InlineData("error: --columns must be a terminal width from 20 to 1000 characters; got 'wide' (see 'logquota run --help')", "run", "--columns", "wide", "--", "echo")]
    [InlineData("error: unknown option '--nmae' for run (the job's own options go after --: logquota run [OPTIONS] -- CMD...)", "run", "--nmae", "x", "--", "echo")]
    [InlineData("error: unknown command or argument 'bogus' (see 'logquota --help')", "bogus")]
    [InlineData("error: unknown command or argument '--bogus' (see 'logquota ps --help')", "ps", "--bogus")]
    [InlineData("error: the server URL 'ftp://x' is not an http(s) URL such as http://127.0.0.1:3000", "ps", "--url", "ftp://x")]
    public async Task InvalidCommandLine_IsOneLineOnStderr_AndExitTwo(string expected, params string[] args)
    {
        var result = await CliProcess.RunAsync(null, args);
        Assert.Equal(2, result.ExitCode);
        Assert.Equal([expected], result.StderrLines);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("run", "--")]
    [InlineData("logs")]
    [InlineData("stop")]
    public async Task MissingArgument_IsOneLineOnStderr_AndExitTwo(params string[] args)
    {
        var result = await CliProcess.RunAsync(null, args);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_GoesToStdout_AndExitsZero()
    {
        var result = await CliProcess.RunAsync(null, "run", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("logquota run <CMD>... [options]", result.StdoutText, StringComparison.Ordinal);
        Assert.Contains("--log-quota <BYTES>", result.StdoutText, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    private static System.CommandLine.ParseResult Parse(params string[] args)
    {
        using var console = new CliConsole(Stream.Null, TextWriter.Null);
        return Program.BuildRootCommand(console).Parse(args);
    }

    private static string[] CommandWords(System.CommandLine.ParseResult parse) => parse.GetValue<string[]>("CMD")!;
}
