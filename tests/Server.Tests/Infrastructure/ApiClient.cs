using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Tests.Infrastructure;

/// <summary>Small helpers over the REST API as a client sees it.</summary>
public static class ApiClient
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    public static async Task<RunDetails> SubmitAsync(this HttpClient client, object body)
    {
        using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), Json(body));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RunDetails>(LogQuotaJson.Options))!;
    }

    public static async Task<RunDetails> GetRunAsync(this HttpClient client, string runName)
    {
        using var response = await client.GetAsync(new Uri($"/api/runs/{runName}", UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RunDetails>(LogQuotaJson.Options))!;
    }

    /// <summary>The newest 1000 runs (one page of <c>GET /api/runs</c>; the tests store fewer).</summary>
    public static async Task<List<RunRow>> ListRunsAsync(this HttpClient client) =>
        [.. (await client.GetFromJsonAsync<RunsPage>(new Uri("/api/runs?limit=1000", UriKind.Relative), LogQuotaJson.Options))!.Runs];

    /// <summary>Polls the run until <paramref name="done"/> holds; fails the test after a generous limit.</summary>
    public static async Task<RunDetails> WaitForAsync(this HttpClient client, string runName, Func<RunDetails, bool> done)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (true)
        {
            var run = await client.GetRunAsync(runName);
            if (done(run))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Run {runName} is still {run.Status} ({run.StatusMessage}).");
            await Task.Delay(50);
        }
    }

    public static Task<RunDetails> WaitForEndAsync(this HttpClient client, string runName) =>
        client.WaitForAsync(runName, r => r.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated);

    public static async Task<LogsResponse> GetLogsAsync(this HttpClient client, string runName, string query = "")
    {
        using var response = await client.GetAsync(new Uri($"/api/runs/{runName}/logs{query}", UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<LogsResponse>(LogQuotaJson.Options))!;
    }

    public static async Task<byte[]> GetLogsTextAsync(this HttpClient client, string runName)
    {
        using var response = await client.GetAsync(new Uri($"/api/runs/{runName}/logs?format=text", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Asserts an RFC 7807 answer with the status and a non-empty detail; returns the detail.</summary>
    public static async Task<string> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.Equal((int)status, json.RootElement.GetProperty("status").GetInt32());
        var detail = json.RootElement.GetProperty("detail").GetString();
        Assert.False(string.IsNullOrWhiteSpace(detail), body);
        return detail!;
    }

    public static StringContent Json(object body) =>
        new(body as string ?? JsonSerializer.Serialize(body, LogQuotaJson.Options), Encoding.UTF8, "application/json");
}
