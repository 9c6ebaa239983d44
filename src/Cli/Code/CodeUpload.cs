using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Api;
using Refit;

namespace LogQuota.Cli.Code;

/// <summary>
/// Puts a code archive on the server unless it is there already: <c>HEAD /api/code/{sha256}</c>, then
/// <c>PUT</c> only on 404. The server's refusals become one line in the CLI's terms.
/// </summary>
public static partial class CodeUpload
{
    /// <summary>What the server said about the archive: it had it, or it has it now.</summary>
    public enum Outcome
    {
        /// <summary>HEAD found it: nothing was sent.</summary>
        AlreadyOnServer,

        /// <summary>It was uploaded.</summary>
        Uploaded,
    }

    /// <summary>Uploads <paramref name="archive"/> when the server lacks it.</summary>
    /// <exception cref="CliException">The server refuses it (too large, uploads off, no such endpoint).</exception>
    public static async Task<Outcome> SendAsync(IServerApi api, CodeArchive archive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(archive);
        using (var head = await api.CodeExistsAsync(archive.Sha256, cancellationToken))
        {
            switch (head.StatusCode)
            {
                case HttpStatusCode.OK:
                    return Outcome.AlreadyOnServer;
                case HttpStatusCode.NotFound:
                    break;
                case HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.MethodNotAllowed:
                    // A HEAD has no body: the PUT below gets the problem details that say why.
                    break;
                default:
                    // A 401 or an unreachable server: the error the CLI describes everywhere else.
                    throw (Exception?)head.Error ?? new ServerAnswerException(head.StatusCode ?? HttpStatusCode.BadGateway, null);
            }
        }

        await using var body = archive.OpenRead();
        using var content = new StreamContent(body, bufferSize: 1 << 16);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
        content.Headers.ContentLength = archive.CompressedBytes;
        try
        {
            await api.PutCodeAsync(archive.Sha256, content, cancellationToken);
        }
        catch (ApiException e) when (Refusal(e.StatusCode, e.Content, archive) is { } line)
        {
            throw new CliException(line, e);
        }
        catch (HttpRequestException e) when (BrokeMidBody(e))
        {
            // The HEAD answered, so the server was there: something closed the connection while the body went out.
            throw new CliException(
                $"the connection to the server broke while the code was being sent ({ByteSize.Format(archive.CompressedBytes)} compressed, " +
                $"{ByteSize.Format(archive.Bytes)} in {archive.Listing.Files.Count} files): the server or a proxy in front of it may refuse bodies this large, " +
                $"or it went away; largest files: {archive.LargestFiles()}; leave files out with .gitignore or {IgnoreRules.FileName}, " +
                "send another directory with --code DIR, or nothing with --no-code", e);
        }

        return Outcome.Uploaded;
    }

    /// <summary>The line for a refused upload, or null when the generic error line says it well enough.</summary>
    /// <param name="status">The answer's status.</param>
    /// <param name="body">Its problem details.</param>
    /// <param name="archive">What was sent.</param>
    public static string? Refusal(HttpStatusCode status, string? body, CodeArchive archive)
    {
        ArgumentNullException.ThrowIfNull(archive);
        var detail = ErrorMessages.Detail(body);
        var limit = Limit(body, detail);
        if (limit == 0 || (detail is not null && UploadsOff().IsMatch(detail)))
        {
            return "this server does not take code uploads (DSTACK_SERVER_CODE_MAX_BYTES=0 there): run with --no-code, or ask its operator to allow them";
        }

        if (status == HttpStatusCode.RequestEntityTooLarge)
        {
            var above = limit is { } bytes ? $"above the server's limit of {ByteSize.Format(bytes)}" : $"above the server's limit ({detail ?? "413"})";
            return $"the code is {ByteSize.Format(archive.CompressedBytes)} compressed ({ByteSize.Format(archive.Bytes)} in {archive.Listing.Files.Count} files), {above}; " +
                $"largest files: {archive.LargestFiles()}; leave files out with .gitignore or {IgnoreRules.FileName}, send another directory with --code DIR, or nothing with --no-code";
        }

        if (status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed)
        {
            return $"the server does not take code uploads (it answered {(int)status} to PUT /api/code; is it older than this CLI?): run with --no-code";
        }

        return null;
    }

    /// <summary>True when the connection failed while the body was being written or before its answer came.</summary>
    private static bool BrokeMidBody(HttpRequestException e) =>
        e.HttpRequestError is HttpRequestError.Unknown or HttpRequestError.ResponseEnded && e.InnerException is IOException;

    /// <summary>The limit in bytes from the problem details: an extension member, else the first "N bytes" of its detail.</summary>
    private static long? Limit(string? body, string? detail)
    {
        if (!string.IsNullOrWhiteSpace(body))
        {
            try
            {
                using var problem = JsonDocument.Parse(body);
                if (problem.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var name in (string[])["max_bytes", "limit", "limit_bytes", "code_max_bytes"])
                    {
                        if (problem.RootElement.TryGetProperty(name, out var value) && value.TryGetInt64(out var bytes))
                        {
                            return bytes;
                        }
                    }
                }
            }
            catch (JsonException)
            {
            }
        }

        return detail is not null && BytesInText().Match(detail) is { Success: true } match &&
            long.TryParse(match.Groups["n"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
            ? limit
            : null;
    }

    [GeneratedRegex(@"(limit|most|maximum|max)\D{0,40}?(?<n>\d+) bytes", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex BytesInText();

    [GeneratedRegex(@"uploads? (are |is )?(turned )?(off|disabled)|DSTACK_SERVER_CODE_MAX_BYTES\W*(is\W*)?0\b", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex UploadsOff();
}
