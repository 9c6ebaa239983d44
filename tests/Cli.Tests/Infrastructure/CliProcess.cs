using System.Text;
using LogQuota.Cli.Terminal;

namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>What a CLI invocation left behind.</summary>
public sealed record CliResult(int ExitCode, byte[] Stdout, string Stderr)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);

    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{StdoutText}\n--- stderr\n{Stderr}";
}

/// <summary>
/// One invocation of the CLI's entry point, in process, as a user would type it: its own captured
/// stdout and stderr, its own environment (nothing leaks in from the test machine's DSTACK_* variables),
/// its own current directory (an empty one unless given, so <c>run</c> sends no code), and a Ctrl-C the test can press.
/// </summary>
public sealed class CliProcess : IDisposable
{
    private readonly CapturingStream _stdout = new();
    private readonly StringWriter _stderr = new() { NewLine = "\n" };
    private readonly TextWriter _syncStderr;
    private readonly CliConsole _console;
    private readonly DirectoryInfo? _emptyDirectory;
    private Task<int>? _run;

    public CliProcess(
        IReadOnlyDictionary<string, string>? environment = null, bool stdinIsTerminal = false, bool stdoutIsTerminal = false,
        string? currentDirectory = null, params char[] keys)
    {
        if (currentDirectory is null)
        {
            _emptyDirectory = Directory.CreateTempSubdirectory("logquota-cli-cwd-");
            currentDirectory = _emptyDirectory.FullName;
        }

        var env = new Dictionary<string, string>(environment ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var answers = new Queue<char>(keys);
        _syncStderr = TextWriter.Synchronized(_stderr);
        _console = new CliConsole(_stdout, _syncStderr)
        {
            InputIsTerminal = stdinIsTerminal,
            OutputIsTerminal = stdoutIsTerminal,
            TerminalWidth = stdoutIsTerminal ? 120 : null,
            TerminalHeight = stdoutIsTerminal ? 30 : null,
            GetEnvironmentVariable = name => env.GetValueOrDefault(name),
            HomeDirectory = Path.Combine(Path.GetTempPath(), "logquota-cli-test-home-that-does-not-exist"),
            CurrentDirectory = currentDirectory,
            ReadKeyAsync = _ => Task.FromResult(answers.TryDequeue(out var key) ? key : (char?)null),
        };
    }

    /// <summary>Runs the CLI to the end.</summary>
    public static Task<CliResult> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunInAsync(environment, null, args);

    /// <summary>Runs the CLI to the end in <paramref name="currentDirectory"/> (null: an empty one).</summary>
    public static async Task<CliResult> RunInAsync(IReadOnlyDictionary<string, string>? environment, string? currentDirectory, params string[] args)
    {
        using var cli = new CliProcess(environment, currentDirectory: currentDirectory);
        cli.Start(args);
        return await cli.WaitAsync(TimeSpan.FromSeconds(90));
    }

    public void Start(params string[] args) => _run = Task.Run(() => Program.RunAsync(args, _console, CancellationToken.None));

    /// <summary>Presses Ctrl-C.</summary>
    public void Interrupt() => _console.Interrupts.Raise();

    public byte[] StdoutSoFar => _stdout.ToArray();

    public string StderrSoFar
    {
        get
        {
            lock (_syncStderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public async Task<CliResult> WaitAsync(TimeSpan timeout)
    {
        var run = _run ?? throw new InvalidOperationException("Start the CLI first.");
        var exitCode = await run.WaitAsync(timeout);
        return new CliResult(exitCode, _stdout.ToArray(), StderrSoFar);
    }

    /// <summary>
    /// Waits until standard output contains <paramref name="text"/>, calling <paramref name="whileWaiting"/> with the output so
    /// far at every look (to act on what the job said before it goes on).
    /// </summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, Func<string, Task>? whileWaiting = null)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (Encoding.UTF8.GetString(StdoutSoFar) is var output && !output.Contains(text, StringComparison.Ordinal))
        {
            if (whileWaiting is not null)
            {
                await whileWaiting(output);
            }

            if (_run is { IsCompleted: true })
            {
                throw new InvalidOperationException($"The CLI ended before printing '{text}':\n{await WaitAsync(TimeSpan.Zero)}");
            }

            await Task.Delay(50, cts.Token);
        }
    }

    public void Dispose()
    {
        _console.Dispose();
        _stdout.Dispose();
        _stderr.Dispose();
        _emptyDirectory?.Delete(recursive: true);
    }
}
