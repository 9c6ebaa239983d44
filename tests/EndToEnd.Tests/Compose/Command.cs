using System.Diagnostics;
using System.Text;

namespace LogQuota.EndToEnd.Tests.Compose;

/// <summary>What a finished command printed and how it exited.</summary>
public sealed record CommandResult(string Command, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Throws with everything the command printed unless it exited 0.</summary>
    public CommandResult EnsureSuccess() =>
        ExitCode == 0 ? this : throw new InvalidOperationException($"`{Command}` exited {ExitCode}:\n{Stdout}\n{Stderr}");
}

/// <summary>
/// Runs a command (docker, docker compose, the CLI) to its end within a deadline: past it the command and its
/// children are killed and a <see cref="TimeoutException"/> names it, so no step of a test can wait forever.
/// </summary>
public static class Command
{
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout,
        IReadOnlyDictionary<string, string?>? env = null, CancellationToken ct = default)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var (key, value) in env ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }

        var text = $"{file} {string.Join(' ', info.ArgumentList)}";
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"`{text}` did not start");
        process.StandardInput.Close();
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(90), CancellationToken.None);
            ct.ThrowIfCancellationRequested();
            throw new TimeoutException($"`{text}` did not end within {timeout.TotalSeconds:0} s; it printed:\n{stdout}\n{stderr}");
        }

        // WaitForExitAsync returns once the output streams are drained too.
        return new CommandResult(text, process.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
