using System.Net;
using System.Text;
using System.Text.Json;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Functional;

/// <summary>A server on real Kestrel holding one finished run, for the auth tests (none of them may change it).</summary>
public sealed class AuthFixture : IAsyncLifetime
{
    public const string Run = "guarded";

    /// <summary>A code archive's name (of nothing stored).</summary>
    public const string Sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public ServerFactory Server { get; } = new(new Dictionary<string, string> { ["DSTACK_SERVER_PORT"] = "0" });

    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Every endpoint of the app but the health check, as (method, concrete path), read from the app's own routing table.</summary>
    public List<(string Method, string Path)> Endpoints { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server.UseKestrel();
        Server.StartServer();
        Admin = Server.CreateAdminClient();
        await Admin.SubmitAsync(new SubmitRunRequest(["echo guarded"], RunName: Run));
        await Admin.WaitForEndAsync(Run);

        Endpoints = [.. Server.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/", StringComparison.Ordinal))
            .Where(e => e.RoutePattern.RawText != "/api/healthcheck")
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m =>
                (m, "/" + e.RoutePattern.RawText!.TrimStart('/').Replace("{run_name}", Run, StringComparison.Ordinal)
                    .Replace("{sha256}", Sha256, StringComparison.Ordinal).Replace("{project}", "main", StringComparison.Ordinal)
                    .Replace("{user}", "someone", StringComparison.Ordinal).Replace("{name}", "local", StringComparison.Ordinal))))];
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>SPEC §4, §10: every endpoint under /api/ but the health check answers 401 problem details to anyone without a user's token or the admin token.</summary>
public sealed class AuthEveryEndpointTests(AuthFixture fixture) : IClassFixture<AuthFixture>
{
    public static TheoryData<string, string?> Presented => new()
    {
        { "no header", null },
        { "wrong token", "Bearer wrong-token" },
        { "last character differs", "Bearer " + ServerFactory.AdminToken[..^1] + "X" },
        { "one character shorter", "Bearer " + ServerFactory.AdminToken[..^1] },
        { "one character longer", "Bearer " + ServerFactory.AdminToken + "0" },
        { "much longer", "Bearer " + ServerFactory.AdminToken + new string('0', 4000) },
        { "different case", "Bearer " + ServerFactory.AdminToken.ToUpperInvariant() },
        { "empty bearer", "Bearer " },
        { "scheme only", "Bearer" },
        { "no scheme", ServerFactory.AdminToken },
        { "Basic scheme", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + ServerFactory.AdminToken)) },
        { "Token scheme", "Token " + ServerFactory.AdminToken },
        { "scheme glued to the token", "Bearer" + ServerFactory.AdminToken },
        { "token twice", $"Bearer {ServerFactory.AdminToken}, Bearer {ServerFactory.AdminToken}" },
    };

    [Fact]
    public void TheRoutingTable_HasTheRunsCodeUsersProjectsAndRunnersEndpoints() =>
        Assert.Equal(
            [
                "DELETE /api/projects/main/members/someone", "DELETE /api/projects/main/runs/guarded", "DELETE /api/projects/main/secrets/local", "DELETE /api/runners/local",
                "DELETE /api/runs/guarded", "DELETE /api/users/someone", "GET /api/projects/", "GET /api/projects/main",
                "GET /api/projects/main/runs/", "GET /api/projects/main/runs/guarded", "GET /api/projects/main/runs/guarded/logs", "GET /api/projects/main/runs/guarded/sections",
                "GET /api/projects/main/secrets/",
                "GET /api/runners/", "GET /api/runs/", "GET /api/runs/guarded", "GET /api/runs/guarded/logs", "GET /api/runs/guarded/sections", "GET /api/users/",
                $"HEAD /api/code/{AuthFixture.Sha256}", "PATCH /api/projects/main", "POST /api/projects/", "POST /api/projects/main/runs/",
                "POST /api/projects/main/runs/guarded/stop", "POST /api/runners/", "POST /api/runners/local/drain", "POST /api/runs/",
                "POST /api/runs/guarded/stop", "POST /api/users/", "POST /api/users/someone/token", $"PUT /api/code/{AuthFixture.Sha256}",
                "PUT /api/projects/main/members/someone", "PUT /api/projects/main/secrets/local",
            ],
            fixture.Endpoints.Select(e => $"{e.Method} {e.Path}").Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Presented))]
    public async Task EveryEndpoint_Answers401ProblemDetails_AndChangesNothing(string why, string? authorization)
    {
        Assert.False(string.IsNullOrEmpty(why));
        var rowsBefore = await fixture.Server.CountRowsAsync();
        using var client = new HttpClient { BaseAddress = fixture.Admin.BaseAddress };
        foreach (var (method, path) in fixture.Endpoints)
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (method is "POST" or "PUT")
            {
                request.Content = new StringContent("""{"commands": ["echo sneaked in"]}""", Encoding.UTF8, "application/json");
            }

            using var response = await client.SendAsync(request);

            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode}: {body}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            if (method == "HEAD")
            {
                // A HEAD answer has no body.
                continue;
            }

            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(body);
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
            Assert.DoesNotContain(ServerFactory.AdminToken, body, StringComparison.Ordinal);
        }

        Assert.Equal(rowsBefore, await fixture.Server.CountRowsAsync());
        Assert.Equal(RunStatus.Done, (await fixture.Admin.GetRunAsync(AuthFixture.Run)).Status);
    }

    [Theory]
    [InlineData("//api/runs")]
    [InlineData("/api//runs")]
    [InlineData("/API/RUNS")]
    [InlineData("/api/runs/")]
    [InlineData("/%61pi/runs")]
    [InlineData("/api/healthcheck/%2E%2E/runs")]
    [InlineData("/api/healthcheck%2F..%2Fruns")]
    [InlineData("/api/runs/guarded/logs?format=text")]
    public async Task OddSpellingsOfAPath_NeverServeDataWithoutTheToken(string path)
    {
        using var client = new HttpClient { BaseAddress = fixture.Admin.BaseAddress };
        using var response = await client.GetAsync(new Uri(fixture.Admin.BaseAddress!.GetLeftPart(UriPartial.Authority) + path));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.NotFound, $"{path} answered {(int)response.StatusCode}: {body}");
        Assert.DoesNotContain(AuthFixture.Run, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheHealthCheck_AloneNeedsNoToken()
    {
        using var client = new HttpClient { BaseAddress = fixture.Admin.BaseAddress };
        using var response = await client.GetAsync(new Uri("/api/healthcheck", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
