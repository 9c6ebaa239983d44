using System.Net.Http.Headers;
using LogQuota.Shared.Api;
using LogQuota.Shared.Json;
using Refit;

namespace LogQuota.Cli.Connection;

/// <summary>Where the server is and how to prove who we are (SPEC §5).</summary>
/// <param name="Url">The server's base URL.</param>
/// <param name="Token">The admin token, or null when none was found.</param>
/// <param name="TokenFile">The token file that was looked for when no token was given.</param>
/// <param name="TokenSource">Where <paramref name="Token"/> came from, in the words of an error message
/// (<c>given with --token</c>, <c>in DSTACK_TOKEN</c>, <c>from the token file PATH</c>); null when not known.</param>
public sealed record ServerConnection(Uri Url, string? Token, string? TokenFile, string? TokenSource = null)
{
    /// <summary>The address of a server started with its defaults.</summary>
    public const string DefaultUrl = "http://127.0.0.1:3000";

    /// <summary>The file a local server keeps its generated admin token in, inside its directory.</summary>
    public const string TokenFileName = "admin-token";

    /// <summary>
    /// <c>--url</c>, else <c>DSTACK_SERVER_URL</c>, else <see cref="DefaultUrl"/>; <c>--token</c>, else
    /// <c>DSTACK_TOKEN</c>, else the token file of a local server (<c>$DSTACK_SERVER_DIR/admin-token</c>, by
    /// default <c>~/.logquota/server/admin-token</c>, as the server writes it).
    /// </summary>
    /// <exception cref="CliException">The URL is not an http(s) URL.</exception>
    public static ServerConnection Resolve(string? url, string? token, Func<string, string?> environment, string home)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var urlText = NonEmpty(url) ?? NonEmpty(environment("DSTACK_SERVER_URL")) ?? DefaultUrl;
        if (!Uri.TryCreate(urlText.Trim(), UriKind.Absolute, out var uri) ||
            (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new CliException($"the server URL '{urlText}' is not an http(s) URL such as {DefaultUrl}", CliException.UsageExitCode);
        }

        // A refused token is named by its source: after switching servers, a stale DSTACK_TOKEN or the token file of
        // another (local) server is the usual cause, and nothing else tells the user which one was sent.
        if (NonEmpty(token) is { } option)
        {
            return new ServerConnection(uri, option.Trim(), null, "given with --token");
        }

        if (NonEmpty(environment("DSTACK_TOKEN")) is { } variable)
        {
            return new ServerConnection(uri, variable.Trim(), null, "in DSTACK_TOKEN");
        }

        var tokenFile = Path.Combine(ServerDir(environment("DSTACK_SERVER_DIR"), home), TokenFileName);
        return new ServerConnection(uri, ReadTokenFile(tokenFile), tokenFile, $"from the token file {tokenFile}");
    }

    /// <summary>The Refit client of the server API, sending the token when there is one.</summary>
    public IServerApi CreateApi(HttpClient client)
    {
        ArgumentNullException.ThrowIfNull(client);
        client.BaseAddress = Url;
        if (Token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        }

        return RestService.For<IServerApi>(client, new RefitSettings(new SystemTextJsonContentSerializer(LogQuotaJson.Options)));
    }

    /// <summary>The server directory as the server itself resolves <c>DSTACK_SERVER_DIR</c> (a leading <c>~</c> is the home directory).</summary>
    private static string ServerDir(string? configured, string home)
    {
        if (string.IsNullOrWhiteSpace(configured))
        {
            // Absolute even without a home directory (HOME unset or empty), so a message never names a relative path.
            return Path.GetFullPath(Path.Combine(home, ".logquota", "server"));
        }

        return Path.GetFullPath(configured.StartsWith('~') ? home + configured[1..] : configured);
    }

    private static string? ReadTokenFile(string path)
    {
        try
        {
            return NonEmpty(File.ReadAllText(path).Trim());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // No local server (or not ours to read): the request goes without a token and a 401 explains what to set.
            return null;
        }
    }

    private static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
