using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Functional;

/// <summary>A server and the OpenAPI document it serves.</summary>
public sealed class OpenApiFixture : IAsyncLifetime
{
    public ServerFactory Server { get; } = new();

    public JsonDocument Document { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var client = Server.CreateClient();
        Document = JsonDocument.Parse(await client.GetStringAsync(new Uri("/openapi/v1.json", UriKind.Relative)));
    }

    public async Task DisposeAsync()
    {
        Document.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary><c>/openapi/v1.json</c> against the routing table and the status codes the README documents.</summary>
public sealed partial class OpenApiTests(OpenApiFixture fixture) : IClassFixture<OpenApiFixture>
{
    /// <summary>Every endpoint and the codes it answers (README, "Server"); 401 comes from the admin token check.</summary>
    private static readonly Dictionary<string, int[]> Documented = new()
    {
        ["GET /api/healthcheck"] = [200, 503],
        ["POST /api/projects/{project}/runs"] = [201, 400, 401, 404, 409, 413, 415, 503],
        ["PUT /api/code/{sha256}"] = [200, 201, 400, 401, 403, 413, 503],
        ["HEAD /api/code/{sha256}"] = [200, 400, 401, 404],
        ["GET /api/projects/{project}/runs"] = [200, 400, 401, 404],
        ["GET /api/projects/{project}/runs/{run_name}"] = [200, 401, 404],
        ["POST /api/projects/{project}/runs/{run_name}/stop"] = [200, 401, 404, 503],
        ["DELETE /api/projects/{project}/runs/{run_name}"] = [204, 401, 404, 409, 503],
        ["GET /api/projects/{project}/runs/{run_name}/logs"] = [200, 400, 401, 404],
        ["GET /api/projects/{project}/runs/{run_name}/sections"] = [200, 401, 404],
        ["POST /api/users"] = [201, 400, 401, 403, 409, 413, 415],
        ["GET /api/users"] = [200, 401, 403],
        ["POST /api/users/{user}/token"] = [200, 401, 403, 404],
        ["DELETE /api/users/{user}"] = [204, 401, 403, 404],
        ["POST /api/projects"] = [201, 400, 401, 409, 413, 415],
        ["GET /api/projects"] = [200, 401],
        ["GET /api/projects/{project}"] = [200, 401, 404],
        ["PATCH /api/projects/{project}"] = [200, 400, 401, 403, 404, 413, 415],
        ["PUT /api/projects/{project}/members/{user}"] = [200, 400, 401, 403, 404, 413, 415],
        ["DELETE /api/projects/{project}/members/{user}"] = [204, 401, 403, 404],
        ["PUT /api/projects/{project}/secrets/{name}"] = [200, 400, 401, 403, 404, 413, 415],
        ["GET /api/projects/{project}/secrets"] = [200, 401, 404],
        ["DELETE /api/projects/{project}/secrets/{name}"] = [204, 401, 403, 404],
        ["GET /api/runners"] = [200, 401, 403],
        ["POST /api/runners"] = [201, 400, 401, 403, 409, 413, 415, 422, 503],
        ["POST /api/runners/{name}/drain"] = [200, 401, 403, 404, 409, 503],
        ["DELETE /api/runners/{name}"] = [204, 401, 403, 404, 409, 503],
    };

    private ServerFactory Server => fixture.Server;

    private JsonDocument Document => fixture.Document;

    private IEnumerable<(string Key, JsonElement Operation)> Operations =>
        Document.RootElement.GetProperty("paths").EnumerateObject().SelectMany(path =>
            path.Value.EnumerateObject().Select(op => ($"{op.Name.ToUpperInvariant()} {path.Name}", op.Value)));

    [Fact]
    public void Document_ListsExactlyTheRoutingTable()
    {
        var routed = Server.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !e.RoutePattern.RawText!.StartsWith("/openapi", StringComparison.Ordinal))

            // The web page is not part of the API: its Razor Pages (no HTTP method metadata) and the reads its
            // scripts make under /web/api (README "Web page").
            .Where(e => e.Metadata.GetMetadata<Microsoft.AspNetCore.Mvc.RazorPages.CompiledPageActionDescriptor>() is null)
            .Where(e => !e.RoutePattern.RawText!.TrimStart('/').StartsWith("web/", StringComparison.Ordinal))

            // /api/runs is the main project's alias of /api/projects/{project}/runs: the document lists each operation once.
            .Where(e => !e.RoutePattern.RawText!.TrimStart('/').StartsWith("api/runs", StringComparison.Ordinal))
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods
                .Select(m => $"{m} /{e.RoutePattern.RawText!.Trim('/')}"))
            .Order(StringComparer.Ordinal);

        Assert.Equal(routed, Operations.Select(o => o.Key).Order(StringComparer.Ordinal));
        Assert.Equal(Documented.Keys.Order(StringComparer.Ordinal), routed);
    }

    [Fact]
    public void EveryOperation_ListsEveryCodeItAnswers_EachWithASchema_ErrorsAsProblemDetails()
    {
        foreach (var (key, operation) in Operations)
        {
            var responses = operation.GetProperty("responses").EnumerateObject().ToList();
            Assert.Equal(Documented[key], responses.Select(r => int.Parse(r.Name, System.Globalization.CultureInfo.InvariantCulture)).Order());
            // Neither a 204 nor any answer to a HEAD has a body.
            foreach (var response in responses.Where(r => r.Name != "204" && !key.StartsWith("HEAD ", StringComparison.Ordinal)))
            {
                var content = response.Value.GetProperty("content");
                Assert.True(content.EnumerateObject().All(c => c.Value.TryGetProperty("schema", out _)), $"{key} {response.Name} has no schema");
                if (response.Name.StartsWith('4') || response.Name.StartsWith('5'))
                {
                    var schema = content.GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString();
                    Assert.Matches("^#/components/schemas/(HttpValidation)?ProblemDetails$", schema);
                }
            }
        }
    }

    [Fact]
    public void Names_AreAsOnTheWire_AndTheLogsQueryIsTyped()
    {
        foreach (var (key, operation) in Operations)
        {
            foreach (var parameter in operation.TryGetProperty("parameters", out var p) ? p.EnumerateArray() : default)
            {
                Assert.Matches(SnakeCase(), parameter.GetProperty("name").GetString());
            }
        }

        var logs = Operations.Single(o => o.Key == "GET /api/projects/{project}/runs/{run_name}/logs").Operation.GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));
        Assert.Equal("integer", logs["limit"].GetProperty("type").GetString());
        Assert.Equal(1000, logs["limit"].GetProperty("maximum").GetInt32());
        Assert.Equal("boolean", logs["descending"].GetProperty("type").GetString());
        Assert.Equal("date-time", logs["start_time"].GetProperty("format").GetString());
        Assert.Equal(["json", "text", "ansi"], logs["format"].GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("boolean", logs["timestamps"].GetProperty("type").GetString());

        var runs = Operations.Single(o => o.Key == "GET /api/projects/{project}/runs").Operation.GetProperty("parameters")
            .EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!, p => p.GetProperty("schema"));
        Assert.Equal(["limit", "next_token", "only_active", "project"], runs.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("integer", runs["limit"].GetProperty("type").GetString());
        Assert.Equal(100, runs["limit"].GetProperty("default").GetInt32());
        Assert.Equal(1000, runs["limit"].GetProperty("maximum").GetInt32());
        Assert.Equal("boolean", runs["only_active"].GetProperty("type").GetString());

        var page = Operations.Single(o => o.Key == "GET /api/projects/{project}/runs").Operation.GetProperty("responses").GetProperty("200")
            .GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();
        Assert.Equal("#/components/schemas/RunsPage", page);
    }

    [Fact]
    public void EveryDocumentedEndpoint_HasACallInTheClientsRefitInterface()
    {
        var calls = typeof(LogQuota.Shared.Api.IServerApi).GetMethods()
            .Select(m => m.GetCustomAttributes(typeof(Refit.HttpMethodAttribute), inherit: false).Cast<Refit.HttpMethodAttribute>().Single())
            .Select(a => $"{a.Method.Method} {a.Path.Split('?')[0].Replace("{runName}", "{run_name}", StringComparison.Ordinal)}")
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(Operations.Select(o => o.Key).Order(StringComparer.Ordinal), calls.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Descriptions_AreTextOnce_NotEscapedTwice()
    {
        var commands = Document.RootElement.GetProperty("components").GetProperty("schemas").GetProperty("SubmitRunRequest")
            .GetProperty("properties").GetProperty("commands").GetProperty("description").GetString();

        Assert.Contains("cmd1 && cmd2", commands, StringComparison.Ordinal);
        Assert.DoesNotContain("&amp;", Document.RootElement.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("\\u0026amp;", Document.RootElement.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryEndpointBehindTheToken_DeclaresTheBearerScheme_AndAnswers401WithoutIt()
    {
        var scheme = Document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());

        using var client = Server.CreateClient();
        foreach (var (key, operation) in Operations)
        {
            var secured = operation.TryGetProperty("security", out var security) && security.GetArrayLength() > 0;
            Assert.Equal(key != "GET /api/healthcheck", secured);
            var (method, path) = (key.Split(' ')[0], key.Split(' ')[1].Replace("{run_name}", "some-run", StringComparison.Ordinal)
                .Replace("{project}", "main", StringComparison.Ordinal).Replace("{user}", "someone", StringComparison.Ordinal));
            using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative)));
            Assert.Equal(secured ? HttpStatusCode.Unauthorized : HttpStatusCode.OK, response.StatusCode);
        }
    }

    [GeneratedRegex("^[a-z][a-z0-9_]*$")]
    private static partial Regex SnakeCase();
}
