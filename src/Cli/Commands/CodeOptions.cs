using System.CommandLine;
using System.Text;
using LogQuota.Cli.Code;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Terminal;
using LogQuota.Shared.Api;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Commands;

/// <summary>
/// <c>--code DIR</c>, <c>--no-code</c> and <c>--working-dir DIR</c> of <c>run</c>, and what they send: the current
/// directory by default (SPEC §9).
/// </summary>
public sealed class CodeOptions
{
    /// <summary>Creates the options and their checks.</summary>
    public CodeOptions()
    {
        Code.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { Length: 0 })
            {
                result.AddError("--code needs a directory");
            }
        });
        WorkingDir.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } dir && CheckWorkingDir(dir) is { } problem)
            {
                result.AddError(problem);
            }
        });
    }

    /// <summary>The directory to send instead of the current one.</summary>
    public Option<string?> Code { get; } = new("--code")
    {
        Description = "Send this directory as the job's code instead of the current one: in a git work tree the files git shows, elsewhere every file that .logquotaignore does not exclude",
        HelpName = "DIR",
    };

    /// <summary>Send no code.</summary>
    public Option<bool> NoCode { get; } = new("--no-code") { Description = "Send no code: the job starts in its home directory" };

    /// <summary>Where the job starts.</summary>
    public Option<string?> WorkingDir { get; } = new("--working-dir")
    {
        Description = "Where the job starts: relative is inside its code directory (created if missing), absolute is used as given",
        HelpName = "DIR",
    };

    /// <summary>Adds the options to <paramref name="command"/>, with the check that <c>--code</c> and <c>--no-code</c> exclude each other.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Options.Add(Code);
        command.Options.Add(NoCode);
        command.Options.Add(WorkingDir);
        command.Validators.Add(result =>
        {
            if (result.GetValue(NoCode) && result.GetResult(Code) is not null)
            {
                result.AddError("--code and --no-code cannot be used together");
            }
        });
    }

    /// <summary>The checks of <c>working_dir</c>: what the server accepts, relative paths included, and no <c>..</c>.</summary>
    public static string? CheckWorkingDir(string dir)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (dir.Length == 0 || dir.Contains('\0', StringComparison.Ordinal) || Encoding.UTF8.GetByteCount(dir) > JobSpecRules.MaxWorkingDirBytes)
        {
            return $"--working-dir must be a path without NUL characters, of 1 to {JobSpecRules.MaxWorkingDirBytes} bytes";
        }

        // A relative one must stay inside the code directory; an absolute one never needs "..".
        return dir.Split('/').Contains("..") ? $"--working-dir must not contain '..'; got '{dir}'" : null;
    }

    /// <summary>
    /// Packs the code the options choose, prints the one line that says what is sent, and uploads it unless the server
    /// has it. Returns the code's hash, or null when nothing is sent.
    /// </summary>
    /// <exception cref="CliException">The directory cannot be sent, or the server refuses it.</exception>
    public async Task<string?> SendAsync(ParseResult parse, CliConsole console, IServerApi api, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(console);
        if (parse.GetValue(NoCode))
        {
            return null;
        }

        var chosen = parse.GetValue(Code);
        var directory = Path.GetFullPath(chosen ?? ".", console.CurrentDirectory);
        if (chosen is null && IsTooWide(directory, console.HomeDirectory))
        {
            throw new CliException(
                $"logquota run sends the current directory as the job's code, and {directory} is your home or the root directory: " +
                "cd into a project, or pass --code DIR or --no-code",
                CliException.UsageExitCode);
        }

        var listing = await CodeFiles.ListAsync(directory, cancellationToken);
        if (listing.Files.Count == 0)
        {
            // Nothing to send is sent as --no-code would: no archive, no line.
            return null;
        }

        using var archive = await CodeArchive.PackAsync(listing, cancellationToken);
        await console.Error.WriteAsync(archive.Summary());
        var ended = false;
        try
        {
            var outcome = await CodeUpload.SendAsync(api, archive, cancellationToken);
            ended = true;
            await console.Error.WriteLineAsync(outcome == CodeUpload.Outcome.AlreadyOnServer ? ", already on the server" : ", uploaded");
            return archive.Sha256;
        }
        finally
        {
            if (!ended)
            {
                // The error line that follows gets a line of its own.
                await console.Error.WriteLineAsync();
            }
        }
    }

    /// <summary>The home directory or <c>/</c>: sending either by accident would pack far more than a project.</summary>
    private static bool IsTooWide(string directory, string home)
    {
        var normalized = Path.TrimEndingDirectorySeparator(directory);
        return normalized is "/" or "" ||
            (home.Length > 0 && string.Equals(normalized, Path.TrimEndingDirectorySeparator(Path.GetFullPath(home)), StringComparison.Ordinal));
    }
}
