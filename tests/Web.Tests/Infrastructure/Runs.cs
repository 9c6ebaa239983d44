using System.Net;
using System.Net.Http.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Web.Tests.Infrastructure;

/// <summary>Arranging runs through the REST API (bearer token), as a script or the CLI would, for the browser to look at.</summary>
public static class Runs
{
    public static async Task SubmitAsync(this HttpClient admin, object body)
    {
        using var response = await admin.PostAsJsonAsync("/api/runs", body, LogQuotaJson.Options);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    public static async Task<RunDetails?> GetRunAsync(this HttpClient admin, string runName)
    {
        using var response = await admin.GetAsync(new Uri($"/api/runs/{runName}", UriKind.Relative));
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<RunDetails>(LogQuotaJson.Options);
    }

    /// <param name="source">job (the job's output only), runner (the [logquota] markers) or all.</param>
    public static Task<byte[]> GetLogTextAsync(this HttpClient admin, string runName, string source = "all") =>
        admin.GetByteArrayAsync(new Uri($"/api/runs/{runName}/logs?format=text&source={source}", UriKind.Relative));

    /// <summary>Polls until <paramref name="done"/> holds; fails the test after <paramref name="limit"/> (default: the browser timeout).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? Browser.Timeout);
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"Gave up waiting for {what}.");
            await Task.Delay(100);
        }
    }

    public static Task<RunDetails?> WaitForEndAsync(this HttpClient admin, string runName, TimeSpan? limit = null) =>
        UntilAsync(() => admin.GetRunAsync(runName), r => r is { Status: RunStatus.Done or RunStatus.Failed or RunStatus.Terminated }, $"run {runName} to end", limit);
}
