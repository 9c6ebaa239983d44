using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Runtime.InteropServices;
using LogQuota.Cli.Commands;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Terminal;
using LogQuota.Shared;

namespace LogQuota.Cli;

/// <summary>The <c>logquota</c> command line (SPEC §5).</summary>
public static class Program
{
    /// <summary>The command people type.</summary>
    public const string Name = "logquota";

    /// <summary>Runs the CLI on the real process: standard streams, environment, Ctrl-C.</summary>
    public static async Task<int> Main(string[] args)
    {
        using var console = new CliConsole(Console.OpenStandardOutput(), Console.Error)
        {
            OutputIsTerminal = !Console.IsOutputRedirected,
            InputIsTerminal = !Console.IsInputRedirected,
            TerminalWidth = Console.IsOutputRedirected ? null : Console.WindowWidth,
            TerminalHeight = Console.IsOutputRedirected ? null : Console.WindowHeight,
            CurrentTerminalWidth = Console.IsOutputRedirected ? null : TerminalSize.Columns,
            ReadKeyAsync = _ => Task.Run(() => (char?)Console.ReadKey(intercept: true).KeyChar),
        };

        // Ctrl-C never kills the process outright: the command decides (run asks, the others end with 130).
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            console.Interrupts.Raise();
        };

        // A resize redraws a followed run's live region at the new width at once (the signal exists on Unix only).
        using var resized = console.OutputIsTerminal && !OperatingSystem.IsWindows()
            ? PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => console.Resizes.Raise())
            : null;
        return await RunAsync(args, console, CancellationToken.None);
    }

    /// <summary>Parses <paramref name="args"/> and runs the command on <paramref name="console"/>; the in-process entry point of the tests.</summary>
    /// <returns>The process exit code: 0 on success, 2 for a command line that cannot be run, otherwise non-zero.</returns>
    public static async Task<int> RunAsync(string[] args, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);
        var parse = BuildRootCommand(console).Parse(args);
        if (parse.Errors.Count > 0)
        {
            // One line, not System.CommandLine's error list followed by the whole help text.
            var command = parse.CommandResult.Command;
            var help = command.Name == Name ? $"{Name} --help" : $"{Name} {command.Name} --help";
            var message = parse.UnmatchedTokens.Count > 0
                ? $"unknown command or argument '{parse.UnmatchedTokens[0]}'"
                : parse.Errors[0].Message.ReplaceLineEndings(" ");
            await console.Error.WriteLineAsync($"error: {message} (see '{help}')");
            return CliException.UsageExitCode;
        }

        return await parse.InvokeAsync(
            new InvocationConfiguration
            {
                Output = console.OutputText,
                Error = console.Error,
                EnableDefaultExceptionHandler = false,

                // Ctrl-C is handled by Interrupts, not by cancelling the invocation from under the command.
                ProcessTerminationTimeout = null,
            },
            cancellationToken);
    }

    /// <summary>The command tree: <c>ps</c>, <c>run</c>, <c>logs</c>, <c>show</c>, <c>stop</c>, <c>delete</c>, <c>runners</c>, with <c>--url</c>, <c>--token</c> and <c>--project</c> on each.</summary>
    /// <remarks>A plain command named <c>logquota</c> rather than a <see cref="RootCommand"/>, which takes its name from the
    /// executable: help reads <c>logquota</c> whether it runs as the tool, through <c>dotnet run</c> or in a test host.</remarks>
    public static Command BuildRootCommand(CliConsole console)
    {
        var options = new GlobalOptions();
        var host = new CommandHost(console, options);
        return new Command(Name, "LogQuota: run shell jobs whose log output is capped per hour")
        {
            new HelpOption(),
            new VersionOption { Action = new PrintVersion(console) },
            options.Url,
            options.Token,
            options.Project,
            PsCommand.Create(host),
            RunCommand.Create(host),
            LogsCommand.Create(host),
            ShowCommand.Create(host),
            StopCommand.Create(host),
            DeleteCommand.Create(host),
            RunnersCommand.Create(host),
            ProjectsCommand.Create(host),
        };
    }

    /// <summary>
    /// <c>--version</c> prints <see cref="ProductVersion.Value"/>, the version both services report, rather than the
    /// entry assembly's (which is the test host's when the CLI runs in process).
    /// </summary>
    private sealed class PrintVersion(CliConsole console) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            console.OutputText.WriteLine(ProductVersion.Value);
            return 0;
        }
    }
}
