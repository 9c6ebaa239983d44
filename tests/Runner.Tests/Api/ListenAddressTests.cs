using System.Net.Http.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests;

/// <summary>DSTACK_RUNNER_HOST takes an IPv6 address with or without brackets, as the server's host setting does.</summary>
public sealed class ListenAddressTests
{
    [Theory]
    [InlineData("::1")]
    [InlineData("[::1]")]
    public async Task AnIPv6Host_WithOrWithoutBrackets_IsListenedOn(string host)
    {
        await using var runner = await RunnerHost.StartAsync(host: host);

        Assert.Equal("[::1]", runner.BaseUri.Host);
        using var client = new HttpClient { BaseAddress = runner.BaseUri };
        var health = await client.GetFromJsonAsync<HealthcheckResponse>("/api/healthcheck", LogQuotaJson.Options);
        Assert.Equal("logquota-runner", health!.Service);
    }
}
