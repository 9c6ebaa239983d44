using System.CommandLine;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Terminal;
using LogQuota.Shared.Api;

namespace LogQuota.Cli.Commands;

/// <summary>
/// What every command shares: the console, the connection to the server, and the rule that any failure
/// ends as one <c>error: ...</c> line on stderr and a non-zero exit.
/// </summary>
public sealed class CommandHost(CliConsole console, GlobalOptions options)
{
    /// <summary>The exit code after Ctrl-C, as shells report a process ended by SIGINT.</summary>
    public const int InterruptedExitCode = 130;

    /// <summary>The project used when neither <c>--project</c> nor <c>DSTACK_PROJECT</c> names one.</summary>
    public const string DefaultProject = "main";

    /// <summary>The console the command writes to.</summary>
    public CliConsole Console => console;

    /// <summary>The project the command is about: <c>--project</c>, else <c>DSTACK_PROJECT</c>, else <c>main</c>.</summary>
    /// <param name="parse">The parsed command line.</param>
    public string ProjectOf(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return (parse.GetValue(options.Project) ?? console.GetEnvironmentVariable("DSTACK_PROJECT")) is { } named && !string.IsNullOrWhiteSpace(named)
            ? named.Trim()
            : DefaultProject;
    }

    /// <summary>Connects to the server and runs <paramref name="body"/>, turning every failure into one line.</summary>
    /// <param name="parse">The parsed command line (for <c>--url</c> and <c>--token</c>).</param>
    /// <param name="runName">The run the command is about, named in "not found".</param>
    /// <param name="body">The command itself.</param>
    /// <param name="cancellationToken">Cancelled when the invocation is.</param>
    public async Task<int> RunAsync(
        ParseResult parse, string? runName, Func<IServerApi, CancellationToken, Task<int>> body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(body);
        ServerConnection? connection = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, console.Interrupts.Token);
        try
        {
            connection = ServerConnection.Resolve(
                parse.GetValue(options.Url), parse.GetValue(options.Token), console.GetEnvironmentVariable, console.HomeDirectory);
            using var http = RequestTimeouts.CreateClient();
            return await body(connection.CreateApi(http), stop.Token);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return InterruptedExitCode;
        }
        catch (CliException e)
        {
            await WriteErrorAsync(e.Message);
            return e.ExitCode;
        }
        catch (Exception e) when (connection is not null && ErrorMessages.Describe(e, connection, runName) is { } line)
        {
            await WriteErrorAsync(line);
            return 1;
        }
        catch (Exception e)
        {
            await WriteErrorAsync($"unexpected {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Writes <c>error: </c> and <paramref name="message"/> as one line on stderr.</summary>
    public Task WriteErrorAsync(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return console.Error.WriteLineAsync("error: " + message.ReplaceLineEndings(" "));
    }
}
