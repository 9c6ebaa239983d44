using System.CommandLine;

namespace LogQuota.Cli.Commands;

/// <summary><c>--url</c>, <c>--token</c> and <c>--project</c>, accepted before or after the command name.</summary>
public sealed class GlobalOptions
{
    /// <summary>The server's URL.</summary>
    public Option<string?> Url { get; } = new("--url")
    {
        Description = "Server URL [env: DSTACK_SERVER_URL] [default: http://127.0.0.1:3000]",
        HelpName = "URL",
        Recursive = true,
    };

    /// <summary>A user's token or the admin token.</summary>
    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Your token, or the admin token [env: DSTACK_TOKEN] [default: the admin-token file of a local server]",
        HelpName = "TOKEN",
        Recursive = true,
    };

    /// <summary>The project whose runs the command is about.</summary>
    public Option<string?> Project { get; } = new("--project")
    {
        Description = "The project whose runs to use [env: DSTACK_PROJECT] [default: main]",
        HelpName = "PROJECT",
        Recursive = true,
    };
}
