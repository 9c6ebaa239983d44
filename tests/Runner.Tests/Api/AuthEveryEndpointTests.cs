using System.Net;
using System.Text;
using System.Text.Json;
using LogQuota.Runner.Configuration;
using LogQuota.Shared.Contracts;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Runner.Tests;

/// <summary>SPEC §3: every runner endpoint but the health check answers 401 problem details without DSTACK_RUNNER_TOKEN.</summary>
public sealed class AuthEveryEndpointTests : IAsyncLifetime
{
    private static readonly Guid Running = Guid.NewGuid();
    private RunnerHost _runner = null!;

    public async Task InitializeAsync()
    {
        _runner = await RunnerHost.StartAsync();
        await Code.TestArchive.PutAsync(_runner, Code.TestArchive.Empty());
        await _runner.Api.SubmitAsync(new SubmitBody(Running, new RunRef(Guid.NewGuid(), "guarded"), new JobSpec(["sleep 600"])), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _runner.Api.StopAsync(Running, new StopBody(), CancellationToken.None);
        await _runner.PullToEndAsync(Running);
        await _runner.DisposeAsync();
    }

    public static TheoryData<string, string?> Presented => new()
    {
        { "no header", null },
        { "wrong token", "Bearer wrong-token-0123456789" },
        { "last character differs", "Bearer " + RunnerHost.Token[..^1] + "X" },
        { "one character shorter", "Bearer " + RunnerHost.Token[..^1] },
        { "one character longer", "Bearer " + RunnerHost.Token + "0" },
        { "much longer", "Bearer " + RunnerHost.Token + new string('0', 4000) },
        { "different case", "Bearer " + RunnerHost.Token.ToUpperInvariant() },
        { "empty bearer", "Bearer " },
        { "no scheme", RunnerHost.Token },
        { "Basic scheme", "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("runner:" + RunnerHost.Token)) },
        { "scheme glued to the token", "Bearer" + RunnerHost.Token },
    };

    private List<(string Method, string Path)> Endpoints() =>
        [.. _runner.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != "/api/healthcheck")
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m =>
                (m, "/" + e.RoutePattern.RawText!.TrimStart('/')
                    .Replace("{jobId}", Running.ToString(), StringComparison.Ordinal)
                    .Replace("{sha256}", Sha256, StringComparison.Ordinal))))];

    /// <summary>A code archive the runner holds: a PUT without the token must not replace it, a HEAD not reveal it.</summary>
    private static readonly string Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Code.TestArchive.Empty()));

    [Fact]
    public void TheRoutingTable_HasTheFourJobEndpoints_TheStream_AndTheTwoCodeEndpoints() =>
        Assert.Equal(
            [
                $"DELETE /api/jobs/{Running}", $"GET /api/jobs/{Running}/pull", "GET /api/pull", $"HEAD /api/code/{Sha256}", "POST /api/jobs/",
                $"POST /api/jobs/{Running}/stop", $"PUT /api/code/{Sha256}",
            ],
            Endpoints().Select(e => $"{e.Method} {e.Path}").Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Presented))]
    public async Task EveryEndpoint_Answers401ProblemDetails_AndChangesNothing(string why, string? authorization)
    {
        Assert.False(string.IsNullOrEmpty(why));
        using var client = new HttpClient { BaseAddress = _runner.BaseUri };
        foreach (var (method, path) in Endpoints())
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path + (method == "GET" ? "?timestamp=0" : ""));
            if (authorization is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", authorization);
            }

            if (method == "PUT")
            {
                request.Content = new ByteArrayContent(Code.TestArchive.Build(Code.TestArchive.Regular("sneaky", "x")));
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/gzip");
            }

            if (method == "POST")
            {
                request.Content = new StringContent(
                    JsonSerializer.Serialize(new SubmitBody(Guid.NewGuid(), new RunRef(Guid.NewGuid(), "sneaky"), new JobSpec(["echo in"])), Shared.Json.LogQuotaJson.Options),
                    Encoding.UTF8,
                    "application/json");
            }

            using var response = await client.SendAsync(request);

            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} answered {(int)response.StatusCode}: {body}");
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            if (method == "HEAD")
            {
                continue; // the same answer, without its body
            }

            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            using var problem = JsonDocument.Parse(body);
            Assert.False(string.IsNullOrWhiteSpace(problem.RootElement.GetProperty("detail").GetString()));
        }

        // Still the one archive, unchanged: the PUT did not get through.
        Assert.Equal([$"{Sha256}.tar.gz"], Directory.GetFiles(Path.Combine(_runner.Dir, "code")).Select(Path.GetFileName));

        // Still one job, still running: neither the stop nor the delete nor the submit got through.
        Assert.Single(Directory.GetDirectories(Path.Combine(_runner.Dir, "jobs")));
        var pull = await _runner.Api.PullAsync(Running, 0, CancellationToken.None);
        Assert.Equal([JobState.Running], pull.JobStates.Select(s => s.State));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("192.168.1.10")]
    [InlineData("::")]
    public void ANonLoopbackHost_WithoutAToken_RefusesToStart(string host)
    {
        var dir = Path.Combine(Path.GetTempPath(), "logquota-never-created-" + Guid.NewGuid().ToString("N"));
        var error = Assert.Throws<SettingsException>(() => RunnerApplication.Build(new RunnerSettings { Host = host, Port = 0, Dir = dir }));
        Assert.Contains("DSTACK_RUNNER_TOKEN is required", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }
}
