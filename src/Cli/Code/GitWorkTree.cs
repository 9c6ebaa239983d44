using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using LogQuota.Cli.Connection;

namespace LogQuota.Cli.Code;

/// <summary>Asks git which files of a directory inside a work tree it would show.</summary>
public static class GitWorkTree
{
    /// <summary>
    /// The paths of <c>git ls-files -co --exclude-standard -z</c> run in <paramref name="directory"/>: tracked files and
    /// untracked ones no ignore rule excludes, below that directory, relative to it. Null when the directory is not in a
    /// git work tree or git is not installed.
    /// </summary>
    /// <exception cref="CliException">Git refused (a repository owned by another user, say).</exception>
    public static async Task<IReadOnlyList<string>?> ListFilesAsync(string directory, CancellationToken cancellationToken)
    {
        var inside = await GitAsync(directory, ["rev-parse", "--is-inside-work-tree"], cancellationToken);
        if (inside is not { } answer || answer.Error.Contains("not a git repository", StringComparison.Ordinal))
        {
            return null;
        }

        if (answer.ExitCode != 0)
        {
            // Not "no repository" but a refusal (an owner git distrusts, a broken .git): walking instead would send
            // what .gitignore excludes, so the user decides.
            throw new CliException($"git cannot read the work tree at {directory}: {FirstLine(answer.Error)} (or run with --no-code)");
        }

        if (Encoding.UTF8.GetString(answer.Output).Trim() != "true")
        {
            return null;
        }

        var listed = await GitAsync(directory, ["ls-files", "-co", "--exclude-standard", "-z"], cancellationToken);
        if (listed is not { ExitCode: 0 } ok)
        {
            throw new CliException($"git ls-files failed in {directory}: {FirstLine(listed?.Error)} (or run with --no-code)");
        }

        return Encoding.UTF8.GetString(ok.Output).Split('\0', StringSplitOptions.RemoveEmptyEntries);
    }

    private static string FirstLine(string? text) =>
        text?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";

    /// <summary>Runs git; null when there is no git to run. Stdout is read as bytes: paths are NUL-separated.</summary>
    private static async Task<(int ExitCode, byte[] Output, string Error)?> GitAsync(
        string directory, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Git's own messages in English whatever the user's locale, since they end up in our one line.
        start.Environment["LC_ALL"] = "C";
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CliException("could not start git");
        }
        catch (Win32Exception)
        {
            return null;
        }

        using (process)
        {
            process.StandardInput.Close();
            using var output = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(output, cancellationToken);
            var error = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await Task.WhenAll(copy, error);
                await process.WaitForExitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                process.Kill();
                await process.WaitForExitAsync(CancellationToken.None);
                throw;
            }

            return (process.ExitCode, output.ToArray(), await error);
        }
    }
}
