using System.Net;
using System.Net.Http.Headers;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

public sealed class AuthTests : IDisposable
{
    private readonly ServerFactory _server = new();

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(null)]
    [InlineData("Bearer wrong-token")]
    [InlineData("Bearer test-admin-token-and-more")]
    [InlineData("Bearer TEST-ADMIN-TOKEN")]
    [InlineData("Basic dGVzdC1hZG1pbi10b2tlbg==")]
    [InlineData("test-admin-token")]
    public async Task WithoutTheAdminToken_EveryApiCallIs401_AndWritesNothing(string? authorization)
    {
        using var client = _server.CreateClient();
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        using (var list = await client.GetAsync(new Uri("/api/runs", UriKind.Relative)))
        {
            await ApiClient.AssertProblemAsync(list, HttpStatusCode.Unauthorized);
            Assert.Contains("Bearer", list.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        using (var submit = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"]))))
        {
            await ApiClient.AssertProblemAsync(submit, HttpStatusCode.Unauthorized);
        }

        using (var unknown = await client.GetAsync(new Uri("/api/runs/x/logs", UriKind.Relative)))
        {
            await ApiClient.AssertProblemAsync(unknown, HttpStatusCode.Unauthorized);
        }

        Assert.Equal((0, 0, 0), await _server.CountRowsAsync());
    }

    [Fact]
    public async Task WithTheAdminToken_TheApiAnswers()
    {
        using var client = _server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServerFactory.AdminToken);

        using var response = await client.GetAsync(new Uri("/api/runs", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Healthcheck_NeedsNoToken()
    {
        using var client = _server.CreateClient();

        var health = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<HealthcheckResponse>(
            client, new Uri("/api/healthcheck", UriKind.Relative), LogQuota.Shared.Json.LogQuotaJson.Options);

        Assert.Equal("logquota-server", health!.Service);
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheRunsApi()
    {
        using var client = _server.CreateClient();

        var document = await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative));

        Assert.Contains("/api/runs/{run_name}/logs", document, StringComparison.Ordinal);
    }
}
