using System.CommandLine;

namespace LogQuota.Cli.Commands;

/// <summary><c>--url</c> and <c>--token</c>, accepted before or after the command name.</summary>
public sealed class GlobalOptions
{
    /// <summary>The server's URL.</summary>
    public Option<string?> Url { get; } = new("--url")
    {
        Description = "Server URL [env: DSTACK_SERVER_URL] [default: http://127.0.0.1:3000]",
        HelpName = "URL",
        Recursive = true,
    };

    /// <summary>The admin token.</summary>
    public Option<string?> Token { get; } = new("--token")
    {
        Description = "Admin token [env: DSTACK_TOKEN] [default: the admin-token file of a local server]",
        HelpName = "TOKEN",
        Recursive = true,
    };
}
