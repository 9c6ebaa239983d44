using System.Text;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace LogQuota.Cli.Terminal;

/// <summary>
/// Everything the commands use of the process they run in: standard streams, whether they are terminals,
/// environment variables, the clock and Ctrl-C. <see cref="Program.Main"/> builds it from the real
/// process; tests build one over memory streams.
/// </summary>
public sealed class CliConsole : IDisposable
{
    /// <summary>Creates a console over the given streams.</summary>
    /// <param name="output">Standard output. Log bytes are written to it as stored, never re-encoded.</param>
    /// <param name="error">Standard error: errors, prompts, run summaries.</param>
    public CliConsole(Stream output, TextWriter error)
    {
        Output = output ?? throw new ArgumentNullException(nameof(output));
        Error = error ?? throw new ArgumentNullException(nameof(error));
        OutputText = new StreamWriter(output, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 4096, leaveOpen: true)
        {
            // Text (tables, help) and raw log bytes share the stream: nothing may sit in a buffer when bytes follow.
            AutoFlush = true,
            NewLine = "\n",
        };
    }

    /// <summary>Standard output as bytes.</summary>
    public Stream Output { get; }

    /// <summary>Standard output as UTF-8 text, flushed after every write.</summary>
    public TextWriter OutputText { get; }

    /// <summary>Standard error.</summary>
    public TextWriter Error { get; }

    /// <summary>True when standard output is a terminal (colours, terminal width).</summary>
    public bool OutputIsTerminal { get; init; }

    /// <summary>True when standard input is a terminal, so a question can be asked.</summary>
    public bool InputIsTerminal { get; init; }

    /// <summary>Width of the terminal, when <see cref="OutputIsTerminal"/>.</summary>
    public int? TerminalWidth { get; init; }

    /// <summary>Reads the terminal's width now (it may have been resized since start); null: it is never resized.</summary>
    public Func<int>? CurrentTerminalWidth { get; init; }

    /// <summary>Height of the terminal in rows, when <see cref="OutputIsTerminal"/>.</summary>
    public int? TerminalHeight { get; init; }

    /// <summary>
    /// True when a live region may be drawn and redrawn in place: standard output is a terminal of known width that
    /// moves the cursor (<c>TERM</c> is not <c>dumb</c>). Piped or redirected output gets the stored bytes only.
    /// </summary>
    public bool DrawsInPlace =>
        OutputIsTerminal && TerminalWidth is > 0 &&
        !string.Equals(GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Reads one answer key; null at end of input. Called only when <see cref="InputIsTerminal"/>.</summary>
    public Func<CancellationToken, Task<char?>> ReadKeyAsync { get; init; } = _ => Task.FromResult<char?>(null);

    /// <summary>Looks up an environment variable.</summary>
    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>The user's home directory (for the default server directory).</summary>
    public string HomeDirectory { get; init; } = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    /// <summary>The directory <c>run</c> sends as the job's code unless told otherwise, and against which <c>--code</c> is resolved.</summary>
    public string CurrentDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>The clock: relative times and poll intervals.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Ctrl-C.</summary>
    public Interrupts Interrupts { get; } = new();

    /// <summary>Resizes of the terminal on standard output.</summary>
    public Resizes Resizes { get; } = new();

    /// <summary>
    /// True when output may be coloured: standard output is a terminal, <c>NO_COLOR</c> is unset or empty
    /// (https://no-color.org) and <c>TERM</c> is not <c>dumb</c>.
    /// </summary>
    public bool UsesColor =>
        OutputIsTerminal &&
        string.IsNullOrEmpty(GetEnvironmentVariable("NO_COLOR")) &&
        !string.Equals(GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Writes a table (or any Spectre renderable) to standard output, honouring <see cref="UsesColor"/>.</summary>
    public void Write(IRenderable renderable)
    {
        using var buffer = new StringWriter { NewLine = "\n" };
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = UsesColor ? AnsiSupport.Yes : AnsiSupport.No,

            // The 16 standard colours are all ps uses, and every colour terminal has them.
            ColorSystem = UsesColor ? ColorSystemSupport.Standard : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(buffer),
        });

        // Piped output keeps whole rows (no wrapping at 80 columns) so grep and awk see one run per line.
        console.Profile.Width = OutputIsTerminal && TerminalWidth is > 0 ? TerminalWidth.Value : 4096;
        console.Write(renderable);

        // Spectre pads every cell to its column's width, the last one too: no line should end in blanks.
        foreach (var line in buffer.ToString().Split('\n'))
        {
            if (line.Length > 0)
            {
                OutputText.WriteLine(line.TrimEnd(' '));
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        OutputText.Dispose();
        Interrupts.Dispose();
    }
}
