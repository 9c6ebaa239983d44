using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Runners;

/// <summary>
/// Asks a runner who it is and what it can take (its health check), and, before it is added, whether it takes the shared
/// runner token: one try each, no retries, a few seconds at most, so an answer to a user or a start-up is never long.
/// </summary>
public sealed class RunnerCheck(IHttpClientFactory http, ServerSettings settings)
{
    /// <summary>The name of its HttpClient: no resilience pipeline, the caller's timeout.</summary>
    public const string HttpClientName = "runner-check";

    /// <summary>A runner answers its health check in milliseconds; 5 s leaves room for a busy machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>The runner's health answer.</summary>
    /// <exception cref="RunnerCheckException">It did not answer as a runner does (the message says what it did).</exception>
    public async Task<HealthcheckResponse> HealthAsync(Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        using var response = await SendAsync(url, new HttpRequestMessage(HttpMethod.Get, new Uri(url, "api/healthcheck")), cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new RunnerCheckException($"{url} answered its health check with {(int)response.StatusCode} {response.ReasonPhrase}; is it a LogQuota runner?");
        }

        HealthcheckResponse? health;
        try
        {
            health = await response.Content.ReadFromJsonAsync<HealthcheckResponse>(LogQuotaJson.Options, cancellationToken);
        }
        catch (System.Text.Json.JsonException)
        {
            health = null;
        }

        return health is { Service: "logquota-runner" }
            ? health
            : throw new RunnerCheckException($"{url} answered /api/healthcheck, but not as a LogQuota runner does; is the address right?");
    }

    /// <summary>
    /// Checks that the runner takes the shared runner token, with a call that needs it and changes nothing: a pull of a
    /// job no runner has (404 with the right token, 401 without).
    /// </summary>
    /// <exception cref="RunnerCheckException">It refused the token or did not answer.</exception>
    public async Task TokenAsync(Uri url, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(url);
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(url, $"api/jobs/{Guid.Empty}/pull?timestamp=0"));
        if (settings.RunnerToken is { } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await SendAsync(url, request, cancellationToken);
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
        {
            throw new RunnerCheckException(settings.RunnerToken is null
                ? $"{url} asks for a runner token, and this server has none: set DSTACK_RUNNER_TOKEN on the server to the runners' token."
                : $"{url} refused this server's runner token: start the runner with the same DSTACK_RUNNER_TOKEN as the server.");
        }

        if (response.StatusCode != HttpStatusCode.NotFound && !response.IsSuccessStatusCode)
        {
            throw new RunnerCheckException($"{url} answered a call with the runner token with {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
    }

    private async Task<HttpResponseMessage> SendAsync(Uri url, HttpRequestMessage request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        using (request)
        {
            try
            {
                return await http.CreateClient(HttpClientName).SendAsync(request, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RunnerCheckException($"{url} did not answer within {Timeout.TotalSeconds:0} s.");
            }
            catch (HttpRequestException e)
            {
                throw new RunnerCheckException($"{url} did not answer: {e.Message.TrimEnd('.')}.");
            }
        }
    }
}

/// <summary>A runner did not answer as one should; the message says so in a user's words.</summary>
public sealed class RunnerCheckException(string message) : Exception(message);
