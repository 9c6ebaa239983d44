using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LogQuota.Runner.Tests;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// Malformed requests generated from a table of mutations over every endpoint of the server's API (SPEC §4: bad input
/// never yields a 5xx and never changes stored state). Each answer must be a 4xx problem details with a detail, and
/// afterwards the run list and every table's row count are as before.
/// </summary>
public sealed partial class HostileInputTests(HostileInputFixture fixture) : IClassFixture<HostileInputFixture>
{
    private const string Json = "application/json";

    /// <summary>A valid body with every field set; each mutation breaks exactly one thing in it.</summary>
    private const string ValidBody = """
        {"run_name": "fresh", "commands": ["echo hi"], "env": {"A": "1"}, "working_dir": "/tmp", "max_duration": 60, "log_quota_hour": 1000, "tty": true}
        """;

    /// <summary>Stands for "remove the field" in a mutation (declared before the table that uses it).</summary>
    private static readonly JsonNode Missing = JsonValue.Create("\u0001missing\u0001");

    private static readonly Dictionary<string, HostileRequest> Table = BuildTable();

    public static TheoryData<string> Cases() => [.. Table.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedRequest_IsA4xxProblem_AndStoresNothing(string name)
    {
        var hostile = Table[name];
        var rowsBefore = await fixture.Server.CountRowsAsync();
        var runsBefore = (await fixture.Client.ListRunsAsync()).Select(r => (r.RunName, r.Status)).ToList();

        using var request = hostile.Build(fixture).WaitForContinueIfOversize();
        using var response = await fixture.Client.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{name}: expected a 4xx, got {status}: {body}");
        if (hostile.Status is { } expected)
        {
            Assert.True(expected == status, $"{name}: expected {expected}, got {status}: {body}");
        }

        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using (var problem = JsonDocument.Parse(body))
        {
            Assert.Equal(status, problem.RootElement.GetProperty("status").GetInt32());
            var detail = problem.RootElement.GetProperty("detail").GetString();
            Assert.False(string.IsNullOrWhiteSpace(detail), body);

            // In the user's words: JSON field names and what they expect, never a .NET type or member.
            foreach (var internals in (string[])["LogQuota.", "System.", ".NET"])
            {
                Assert.False(body.Contains(internals, StringComparison.Ordinal), $"{name}: the answer shows .NET internals: {body}");
            }
        }

        Assert.Equal(rowsBefore, await fixture.Server.CountRowsAsync());
        Assert.Equal(runsBefore, (await fixture.Client.ListRunsAsync()).Select(r => (r.RunName, r.Status)).ToList());
    }

    [Fact]
    public void TheTable_HoldsAtLeastAHundredCases() => Assert.True(Table.Count >= 100, $"only {Table.Count} cases");

    [Fact]
    public async Task TheValidBody_ThatEveryMutationStartsFrom_IsAccepted()
    {
        // Without this, a mutation could be refused for what the base body already got wrong.
        var body = JsonNode.Parse(ValidBody)!;
        body["run_name"] = "valid-base";
        using var response = await fixture.Client.PostAsync(new Uri("/api/runs", UriKind.Relative), Content(body.ToJsonString()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        await fixture.Client.WaitForEndAsync("valid-base");
        using var delete = await fixture.Client.DeleteAsync(new Uri("/api/runs/valid-base", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }

    [Fact]
    public async Task CommandsAtTheLimits_AreAccepted_AndRun()
    {
        // The largest script the rules allow must really start: /bin/sh gets it as one argument.
        var script = ": " + new string('x', JobSpecRules.MaxScriptBytes - ": ".Length - " && ".Length - "echo fits".Length);
        var env = new Dictionary<string, string> { ["BIG"] = new string('v', JobSpecRules.MaxEnvEntryBytes - "BIG=".Length) };
        var run = await fixture.Client.SubmitAsync(new SubmitRunRequest([script, "echo fits"], RunName: "at-the-limits", Env: env));
        var ended = await fixture.Client.WaitForEndAsync(run.RunName);
        Assert.Equal(RunStatus.Done, ended.Status);
        Assert.Equal("fits\n", Encoding.UTF8.GetString(await fixture.Client.GetLogsTextAsync(run.RunName)));
        using var delete = await fixture.Client.DeleteAsync(new Uri($"/api/runs/{run.RunName}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }

    [Theory]
    [InlineData("/api/runs/kept%00", 400)]
    [InlineData("/api/runs/%00/logs", 400)]
    [InlineData("/api/runs/kept/logs?next_token=LONG", 414)]
    public async Task KestrelRefusals_BeforeTheApp_Are4xx_AndStoreNothing(string path, int status)
    {
        // These never reach the app (Kestrel answers them while parsing the request line), so they carry no problem details.
        var rowsBefore = await fixture.Server.CountRowsAsync();
        using var response = await fixture.Client.GetAsync(new Uri(path.Replace("LONG", new string('A', 10_000), StringComparison.Ordinal), UriKind.Relative));
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(rowsBefore, await fixture.Server.CountRowsAsync());
    }
}

/// <summary>One generated malformed request: its exact expected status when the table knows it, and how to build it.</summary>
public sealed record HostileRequest(int? Status, Func<HostileInputFixture, HttpRequestMessage> Build);
