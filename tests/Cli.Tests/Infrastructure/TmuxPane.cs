using System.Diagnostics;

namespace LogQuota.Cli.Tests.Infrastructure;

/// <summary>
/// A real terminal: a detached tmux session of its own (private socket, no user configuration) running one shell
/// script in a pane of a fixed size, read back with <c>capture-pane</c> as a person would see it.
/// </summary>
public sealed class TmuxPane : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-tmux-").FullName;
    private readonly string _socket;

    private TmuxPane()
    {
        _socket = Path.Combine(_dir, "socket");
    }

    /// <summary>Why a tmux test cannot run here, or null when it can.</summary>
    public static string? Unavailable()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("tmux", "-V") { RedirectStandardOutput = true, RedirectStandardError = true });
            probe!.WaitForExit();
            return probe.ExitCode == 0 ? null : "tmux -V failed";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "tmux is not installed (apt-get install -y tmux)";
        }
    }

    /// <summary>Starts <paramref name="script"/> (a POSIX shell script) in a pane of <paramref name="width"/> × <paramref name="height"/>.</summary>
    /// <remarks>The script's last command keeps the pane open, so what it left on screen can still be read once it ends.</remarks>
    public static TmuxPane Start(string script, int width, int height)
    {
        var pane = new TmuxPane();
        var file = Path.Combine(pane._dir, "pane.sh");
        File.WriteAllText(file, script + "\nexec sleep 600\n");
        pane.Tmux("-f", "/dev/null", "new-session", "-d", "-x", $"{width}", "-y", $"{height}", "sh", file);
        return pane;
    }

    /// <summary>
    /// A pane script that runs the CLI as the built tool runs it, in <paramref name="environment"/>, then prints its exit
    /// code on a row of its own.
    /// </summary>
    public static string CliScript(IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var cli = Path.Combine(AppContext.BaseDirectory, "logquota.dll");
        var exports = environment.Select(v => $"export {v.Key}={Quote(v.Value)}");
        return string.Join('\n', [
            .. exports,
            $"{Quote(dotnet)} exec {Quote(cli)} {string.Join(' ', args.Select(Quote))}",
            "echo \"[exit $?]\"",
        ]);
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Resizes the pane's window, as a person dragging the terminal's edge does (tmux rewraps its text).</summary>
    public void Resize(int width, int height) => Tmux("resize-window", "-x", $"{width}", "-y", $"{height}");

    /// <summary>The pane's rows as shown now, trailing blank rows left out.</summary>
    public IReadOnlyList<string> Screen() => Capture("capture-pane", "-p");

    /// <summary>The rows tmux keeps above the screen (those that scrolled up, also when a narrower pane rewrapped them) and the screen's.</summary>
    public IReadOnlyList<string> ScreenWithHistory() => Capture("capture-pane", "-p", "-S", "-");

    private List<string> Capture(params string[] args)
    {
        var rows = Tmux(args).Split('\n').Select(r => r.TrimEnd()).ToList();
        while (rows.Count > 0 && rows[^1].Length == 0)
        {
            rows.RemoveAt(rows.Count - 1);
        }

        return rows;
    }

    /// <summary>The pane's rows with their colours as escape sequences (<c>capture-pane -e</c>), as tmux keeps them.</summary>
    public string ScreenWithEscapes() => Tmux("capture-pane", "-p", "-e");

    /// <summary>Waits until the screen satisfies <paramref name="condition"/>; fails with the screen as it was.</summary>
    public async Task<IReadOnlyList<string>> WaitForAsync(Func<IReadOnlyList<string>, bool> condition, string what, bool withHistory = false)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var screen = withHistory ? ScreenWithHistory() : Screen();
            if (condition(screen))
            {
                return screen;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The pane never showed {what}:\n{string.Join('\n', screen)}");
            await Task.Delay(100);
        }
    }

    public void Dispose()
    {
        try
        {
            // Ends the session's processes (the script's sleep, the CLI if it is still running) with the server.
            Tmux("kill-server");
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        Directory.Delete(_dir, recursive: true);
    }

    private string Tmux(params string[] args)
    {
        var start = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-S");
        start.ArgumentList.Add(_socket);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"tmux {string.Join(' ', args)} failed: {error}");
        }

        return output.Result;
    }
}
