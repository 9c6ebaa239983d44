using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LogQuota.Shared.Contracts;
using Refit;

namespace LogQuota.Cli.Connection;

/// <summary>
/// The server's refusal of a quota above its own, told in the CLI's terms: the option as typed and both quotas in
/// units (<c>--log-quota 100MiB is above the server's quota of 50MiB/h</c>), not the API's
/// <c>log_quota_hour 104857600 is above ...</c>.
/// </summary>
public static partial class QuotaRefusal
{
    /// <summary>Runs <paramref name="submit"/>, turning a refusal of <c>log_quota_hour</c> into a <see cref="CliException"/>.</summary>
    /// <param name="submit">The command's call to the server.</param>
    /// <param name="quotaAsTyped">The value of <c>--log-quota</c> as the user typed it, or null when not given.</param>
    public static async Task<int> InCliTermsAsync(Func<Task<int>> submit, string? quotaAsTyped)
    {
        ArgumentNullException.ThrowIfNull(submit);
        try
        {
            return await submit();
        }
        catch (ApiException e) when (e.StatusCode == HttpStatusCode.BadRequest && Describe(e.Content, quotaAsTyped) is { } line)
        {
            throw new CliException(line, e);
        }
    }

    /// <summary>The line for a 400 <paramref name="body"/> that refuses <c>log_quota_hour</c> as above the server's quota; else null.</summary>
    public static string? Describe(string? body, string? quotaAsTyped)
    {
        if (quotaAsTyped is null || string.IsNullOrEmpty(body))
        {
            return null;
        }

        try
        {
            using var problem = JsonDocument.Parse(body);
            if (problem.RootElement.ValueKind != JsonValueKind.Object ||
                !problem.RootElement.TryGetProperty("errors", out var errors) || errors.ValueKind != JsonValueKind.Object ||
                !errors.TryGetProperty("log_quota_hour", out var messages) || messages.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            foreach (var message in messages.EnumerateArray())
            {
                if (message.ValueKind == JsonValueKind.String && AboveServerQuota().Match(message.GetString()!) is { Success: true } match &&
                    ByteCount.TryParse(match.Groups["quota"].Value, out var serverQuota))
                {
                    var quota = ByteCount.Compact(serverQuota);
                    return $"--log-quota {quotaAsTyped} is above the server's quota of {quota}/h; ask for {quota} or less";
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }

    [GeneratedRegex(@"above the server's quota of (?<quota>.+?) per hour")]
    private static partial Regex AboveServerQuota();
}
