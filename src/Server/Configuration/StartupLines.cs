using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace LogQuota.Server.Configuration;

/// <summary>
/// What a person who just started the server reads next to its admin token: where the web page is, with the address
/// it really listens on (port 0 included), and how to get the command line.
/// </summary>
/// <param name="tokenFromEnvironment">True when the admin token came from DSTACK_SERVER_ADMIN_TOKEN, so none was printed.</param>
internal sealed class StartupLines(IServer server, IHostApplicationLifetime lifetime, bool tokenFromEnvironment) : IHostedService
{
    /// <summary>The line on how to get the CLI.</summary>
    public const string CliLine = "CLI: dotnet run --project src/Cli -- ps in the repository, or install logquota as a .NET tool (docs/cli.md)";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Kestrel binds after the hosted services have started; ApplicationStarted comes once it listens.
        lifetime.ApplicationStarted.Register(() =>
        {
            // An in-memory test server has no address, and nothing to open in a browser.
            if (server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() is { } address)
            {
                Console.Out.WriteLine(WebPageLine(new Uri(address), tokenFromEnvironment));
                Console.Out.WriteLine(CliLine);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary><c>Web page: http://127.0.0.1:3000/ (sign in with the admin token above)</c>, for the address listened on.</summary>
    public static string WebPageLine(Uri listening, bool tokenFromEnvironment)
    {
        ArgumentNullException.ThrowIfNull(listening);

        // A browser cannot open the wildcard address; this machine's loopback reaches the same server.
        var host = listening.Host switch
        {
            "0.0.0.0" => "127.0.0.1",
            "[::]" => "[::1]",
            var name => name,
        };
        var signIn = tokenFromEnvironment ? "DSTACK_SERVER_ADMIN_TOKEN" : "the admin token above";
        return $"Web page: {listening.Scheme}://{host}:{listening.Port}/ (sign in with {signIn})";
    }
}
