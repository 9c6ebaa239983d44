using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests;

/// <summary>A real runner holding one running job (<c>sleep</c>), the target of the malformed stops, pulls and deletes.</summary>
public sealed class RunnerHostileFixture : IAsyncLifetime
{
    public static readonly Guid Running = Guid.Parse("6a0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3");

    public RunnerHost Runner { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Runner = await RunnerHost.StartAsync();
        await Runner.Api.SubmitAsync(new SubmitBody(Running, new RunRef(Guid.NewGuid(), "target"), new JobSpec(["sleep 600"])), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await Runner.Api.StopAsync(Running, new StopBody(), CancellationToken.None);
        await Runner.PullToEndAsync(Running);
        await Runner.DisposeAsync();
    }
}

/// <summary>
/// Malformed requests generated from a table of mutations over every endpoint of the runner's API. Each answer must be
/// a 4xx problem details with a detail; afterwards no job is registered, no file appeared in DSTACK_RUNNER_DIR and the
/// running job is still running.
/// </summary>
public sealed class HostileInputTests(RunnerHostileFixture fixture) : IClassFixture<RunnerHostileFixture>
{
    private const string Json = "application/json";

    /// <summary>The job id of every submitted body: after each case, pulling it must answer 404.</summary>
    private static readonly Guid Fresh = Guid.Parse("0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80");

    /// <summary>A valid body with every field set; each mutation breaks exactly one thing in it.</summary>
    private static readonly string ValidBody = $$$"""
        {"job_id": "{{{Fresh}}}", "run": {"id": "5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b", "run_name": "fresh"},
         "job_spec": {"commands": ["echo hi"], "env": {"A": "1"}, "working_dir": "/tmp", "max_duration": 60, "log_quota_hour": 1000, "tty": true}}
        """;

    /// <summary>Stands for "remove the field" in a mutation (declared before the table that uses it).</summary>
    private static readonly JsonNode Missing = JsonValue.Create("\u0001missing\u0001");

    private static readonly Dictionary<string, (int Status, Func<HttpRequestMessage> Build)> Table = BuildTable();

    public static TheoryData<string> Cases() => [.. Table.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task MalformedRequest_IsA4xxProblem_AndRegistersNothing(string name)
    {
        var (expected, build) = Table[name];
        var filesBefore = Files();

        using var request = build().WaitForContinueIfOversize();
        using var response = await fixture.Runner.Http.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == (int)response.StatusCode, $"{name}: expected {expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using (var problem = JsonDocument.Parse(body))
        {
            var detail = problem.RootElement.GetProperty("detail").GetString();
            Assert.False(string.IsNullOrWhiteSpace(detail), body);

            // In the user's words: JSON field names and what they expect, never a .NET type or member.
            foreach (var internals in (string[])["LogQuota.", "System.", ".NET"])
            {
                Assert.False(body.Contains(internals, StringComparison.Ordinal), $"{name}: the answer shows .NET internals: {body}");
            }
        }

        Assert.Equal(filesBefore, Files());
        using (var pull = await fixture.Runner.Http.GetAsync($"/api/jobs/{Fresh}/pull?timestamp=0"))
        {
            Assert.Equal(HttpStatusCode.NotFound, pull.StatusCode);
        }

        var states = await fixture.Runner.Api.PullAsync(RunnerHostileFixture.Running, 0, CancellationToken.None);
        Assert.Equal([JobState.Running], states.JobStates.Select(s => s.State));
    }

    [Fact]
    public void TheTable_HoldsAtLeastAHundredCases() => Assert.True(Table.Count >= 100, $"only {Table.Count} cases");

    [Fact]
    public async Task TheValidBody_ThatEveryMutationStartsFrom_IsAccepted()
    {
        var id = Guid.NewGuid();
        var body = JsonNode.Parse(ValidBody)!;
        body["job_id"] = id.ToString();
        using (var response = await fixture.Runner.Http.PostAsync("/api/jobs", new StringContent(body.ToJsonString(), Encoding.UTF8, Json)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(JobState.Done, (await fixture.Runner.PullToEndAsync(id)).Final.State);
        await fixture.Runner.Api.DeleteAsync(id, CancellationToken.None);
    }

    [Fact]
    public async Task ASubmitAtTheLimits_RunsToDone()
    {
        // The largest script and env entry the rules allow must really start: each is one string handed to posix_spawn.
        var script = ": " + new string('x', JobSpecRules.MaxScriptBytes - ": ".Length - " && ".Length - "echo fits".Length);
        var env = Enumerable.Range(0, 20).ToDictionary(i => $"BIG{i:D2}", _ => new string('v', JobSpecRules.MaxEnvEntryBytes - "BIGnn=".Length));
        var result = await fixture.Runner.RunAsync(new JobSpec([script, "echo fits"], env, Tty: false));
        Assert.Equal(JobState.Done, result.Final.State);
        Assert.Equal("fits\n", result.Text);
        await fixture.Runner.Api.DeleteAsync(result.JobId, CancellationToken.None);
    }

    private string[] Files() =>
        [.. Directory.EnumerateFileSystemEntries(fixture.Runner.Dir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    private static Dictionary<string, (int, Func<HttpRequestMessage>)> BuildTable()
    {
        var table = new Dictionary<string, (int, Func<HttpRequestMessage>)>(StringComparer.Ordinal);
        void Add(string name, int status, Func<HttpRequestMessage> build) => table.Add(name, (status, build));
        void Submit(string name, int status, string json) => Add(name, status, () => Post("/api/jobs", json));
        void SubmitBytes(string name, int status, byte[] body, string? contentType = Json) =>
            Add(name, status, () => new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = Bytes(body, contentType) });
        void Mutate(string name, string path, JsonNode? value) => Submit(name, 400, With(path, value));

        // Wrong JSON types and nulls, for every field at every level.
        var wrongTypes = new Dictionary<string, JsonNode?[]>
        {
            ["job_id"] = [5, true, "nope", "", "0b4a3f4e5a364c1e9d0e", new JsonArray(), new JsonObject(), null],
            ["run"] = ["fresh", 5, new JsonArray(), null],
            ["run.id"] = [5, "nope", new JsonObject(), null],
            ["run.run_name"] = [5, true, new JsonArray(), null],
            ["job_spec"] = ["echo hi", 5, new JsonArray("echo hi"), null],
            ["job_spec.commands"] = ["echo hi", 5, new JsonObject(), new JsonArray(5), new JsonArray((JsonNode?)null), new JsonArray(new JsonArray()), null],
            ["job_spec.env"] = ["A=1", 5, new JsonArray("A=1"), new JsonObject { ["A"] = 5 }, new JsonObject { ["A"] = null }, new JsonObject { ["A"] = new JsonObject() }],
            ["job_spec.working_dir"] = [5, true, new JsonArray()],
            ["job_spec.max_duration"] = ["60", true, 1.5, JsonNode.Parse("1e2"), 0, -1, 2147483648L],
            ["job_spec.log_quota_hour"] = ["1000", true, 1.5, JsonNode.Parse("1e3"), 0, -1, JsonNode.Parse("9223372036854775808")],
            ["job_spec.tty"] = ["true", 1, null, new JsonObject()],
        };
        foreach (var (path, values) in wrongTypes)
        {
            foreach (var value in values)
            {
                Mutate($"{path} = {value?.ToJsonString() ?? "null"}", path, value);
            }
        }

        // Missing required fields, unknown fields at each level, duplicate keys.
        foreach (var path in new[] { "job_id", "run", "run.id", "run.run_name", "job_spec", "job_spec.commands" })
        {
            Mutate($"{path} missing", path, Missing);
        }

        Mutate("unknown top-level field", "gpu", 1);
        Mutate("unknown field in run", "run.owner", "x");
        Mutate("unknown field in job_spec", "job_spec.image", "ubuntu");
        Mutate("camelCase field", "job_spec.logQuotaHour", 1);
        Submit("duplicate key job_id", 400, ValidBody.Replace("{\"job_id\":", $"{{\"job_id\": \"{Guid.NewGuid()}\", \"job_id\":", StringComparison.Ordinal));
        Submit("duplicate key commands", 400, ValidBody.Replace("\"commands\":", "\"commands\": [\"rm -rf /tmp/x\"], \"commands\":", StringComparison.Ordinal));
        Submit("duplicate key in env", 400, ValidBody.Replace("{\"A\": \"1\"}", "{\"A\": \"1\", \"A\": \"2\"}", StringComparison.Ordinal));

        // Bad job ids and run names (run_name is exported to the job as DSTACK_RUN_NAME).
        Mutate("nil job_id", "job_id", Guid.Empty.ToString());
        foreach (var runName in new[] { "", "Upper", "1abc", "../etc", "a/b", "a b", "a\n", "a\u0000", "a=b", "a" + new string('b', 41) })
        {
            Mutate($"run.run_name = {JsonSerializer.Serialize(runName)}", "run.run_name", runName);
        }

        // Commands, env and working directories past the limits or malformed.
        foreach (var (name, commands) in new (string, string[])[]
                 {
                     ("no commands", []),
                     ("empty command", [""]),
                     ("blank command", [" \t"]),
                     ("NUL in a command", ["echo a\u0000b"]),
                     ("too many commands", [.. Enumerable.Repeat("true", JobSpecRules.MaxCommands + 1)]),
                     ("script one byte too long", [new string('x', JobSpecRules.MaxScriptBytes + 1)]),
                     ("script too long in multibyte characters", [new string('é', (JobSpecRules.MaxScriptBytes / 2) + 1)]),
                 })
        {
            Mutate(name, "job_spec.commands", new JsonArray([.. commands.Select(c => (JsonNode?)c)]));
        }

        foreach (var envName in new[] { "A=B", "=", "", "1A", "A B", "A-B", "A\u0000", "é" })
        {
            Mutate($"env name {JsonSerializer.Serialize(envName)}", "job_spec.env", new JsonObject { [envName] = "x" });
        }

        Mutate("env value with NUL", "job_spec.env", new JsonObject { ["A"] = "x\u0000y" });
        Mutate("too many env entries", "job_spec.env", new JsonObject(Enumerable.Range(0, JobSpecRules.MaxEnvEntries + 1).Select(i => KeyValuePair.Create($"V{i}", (JsonNode?)"x"))));
        Mutate("env entry one byte too long", "job_spec.env", new JsonObject { ["A"] = new string('x', JobSpecRules.MaxEnvEntryBytes - 1) });
        foreach (var dir in new[] { "", "..", "../up", "../x", "src/../../x", "src/../../etc", "a/..", "/tmp/../etc", "/..", "/tmp/\u0000", "rel\u0000", "/" + new string('d', 4095), new string('d', 4096) })
        {
            Mutate($"working_dir = {JsonSerializer.Serialize(dir)[..Math.Min(30, JsonSerializer.Serialize(dir).Length)]}", "job_spec.working_dir", dir);
        }

        // Not JSON, truncated, deeply nested, invalid UTF-8, wrong content types, too large.
        foreach (var text in new[] { "", "null", "[]", "42", "\"job\"", "job_id=1", "<job/>", "{", "{\"job_id\"", "{'job_id': 1}" })
        {
            Submit($"body {JsonSerializer.Serialize(text)}", 400, text);
        }

        var valid = ValidBody.Trim();
        for (var cut = 1; cut < valid.Length - 1; cut += 25)
        {
            Submit($"valid body truncated to {cut} bytes", 400, valid[..cut]);
        }

        Submit("array nested 10000 deep", 400, new string('[', 10_000) + new string(']', 10_000));
        Submit("run nested 100 deep", 400, ValidBody.Replace("\"run\": {", "\"run\": " + string.Concat(Enumerable.Repeat("{\"run\": ", 100)) + "{", StringComparison.Ordinal));
        SubmitBytes("invalid UTF-8 in a command", 400, Utf8WithRaw(ValidBody, "echo hi", [0xFF, 0xFE]));
        SubmitBytes("overlong UTF-8 in working_dir", 400, Utf8WithRaw(ValidBody, "/tmp", [0xC0, 0xAF]));
        SubmitBytes("truncated UTF-8 in run_name", 400, Utf8WithRaw(ValidBody, "fresh", [0xE2, 0x82]));
        Submit("lone surrogate escape in an env value", 400, ValidBody.Replace("\"1\"", "\"\\udc00\"", StringComparison.Ordinal));
        SubmitBytes("UTF-16 body", 400, Encoding.Unicode.GetBytes(ValidBody));
        foreach (var contentType in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "application/octet-stream" })
        {
            SubmitBytes($"content type {contentType}", 415, Encoding.UTF8.GetBytes(ValidBody), contentType);
        }

        SubmitBytes("no content type", 415, Encoding.UTF8.GetBytes(ValidBody), null);
        var huge = With("job_spec.commands", new JsonArray(new string('x', JobSpecRules.MaxBodyBytes + 10)));
        Submit("body over 1 MiB", 413, huge);
        Add("chunked body over 1 MiB", 413, () => new HttpRequestMessage(HttpMethod.Post, "/api/jobs") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(huge), Json) });

        // Pull: bad timestamps, bad and traversing job ids.
        var running = RunnerHostileFixture.Running;
        foreach (var timestamp in new[] { "abc", "1.5", "1e3", "", "%201", "0x10", "99999999999999999999", "1&timestamp=2", "%00" })
        {
            Add($"pull timestamp={timestamp}", 400, () => Get($"/api/jobs/{running}/pull?timestamp={timestamp}"));
        }

        foreach (var jobId in new[] { "nope", "..%2F..%2Fetc", "%2E%2E", Guid.Empty.ToString(), Fresh.ToString(), "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d8", "..%2Fjobs", new string('a', 4000) })
        {
            var shown = jobId[..Math.Min(40, jobId.Length)];
            // /api/jobs/%2E%2E/pull is /api/jobs/../pull, the stream's /api/pull, once the client resolves the dots: that
            // endpoint takes no timestamp and says so.
            Add($"pull of job {shown}", jobId == "%2E%2E" ? 400 : 404, () => Get($"/api/jobs/{jobId}/pull?timestamp=0"));
            Add($"stop of job {shown}", 404, () => new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{jobId}/stop"));
            Add($"delete of job {shown}", 404, () => new HttpRequestMessage(HttpMethod.Delete, $"/api/jobs/{jobId}"));
        }

        // Stop bodies that must not stop the running job.
        foreach (var (name, json) in new (string, string)[]
                 {
                     ("reason log_quota_exceeded", """{"termination_reason": "log_quota_exceeded"}"""),
                     ("reason container_exited_with_error", """{"termination_reason": "container_exited_with_error"}"""),
                     ("reason executor_error", """{"termination_reason": "executor_error"}"""),
                     ("unknown reason", """{"termination_reason": "because"}"""),
                     ("reason in capitals", """{"termination_reason": "TERMINATED_BY_USER"}"""),
                     ("number reason", """{"termination_reason": 4}"""),
                     ("number message", """{"termination_message": 5}"""),
                     ("message too long", $$"""{"termination_message": "{{new string('m', JobSpecRules.MaxTerminationMessageLength + 1)}}"}"""),
                     ("unknown field", """{"signal": "SIGKILL"}"""),
                     ("duplicate reason", """{"termination_reason": "terminated_by_user", "termination_reason": "log_quota_exceeded"}"""),
                     ("null body", "null"),
                     ("array body", "[]"),
                     ("not JSON", "stop now"),
                     ("truncated", "{\"termination_reason\": \"term"),
                 })
        {
            Add($"stop body: {name}", 400, () => Post($"/api/jobs/{running}/stop", json));
        }

        Add("stop body as text/plain", 415, () => new HttpRequestMessage(HttpMethod.Post, $"/api/jobs/{running}/stop") { Content = Bytes("{}"u8.ToArray(), "text/plain") });
        Add("stop body over 1 MiB", 413, () => Post($"/api/jobs/{running}/stop", $$"""{"termination_message": "{{new string('m', JobSpecRules.MaxBodyBytes)}}"}"""));
        Add("delete of the running job", 409, () => new HttpRequestMessage(HttpMethod.Delete, $"/api/jobs/{running}"));

        // Wrong methods and unknown endpoints.
        Add("GET /api/jobs", 405, () => Get("/api/jobs"));
        Add("PUT a job", 405, () => new HttpRequestMessage(HttpMethod.Put, $"/api/jobs/{running}") { Content = Bytes("{}"u8.ToArray(), Json) });
        Add("GET stop", 405, () => Get($"/api/jobs/{running}/stop"));
        Add("POST pull", 405, () => Post($"/api/jobs/{running}/pull", "{}"));
        Add("unknown endpoint", 404, () => Get("/api/nothing-here"));
        Add("unknown job sub-resource", 404, () => Get($"/api/jobs/{running}/logs"));
        return table;
    }

    /// <summary><see cref="ValidBody"/> with the dotted <paramref name="path"/> set to <paramref name="value"/> (removed for <see cref="Missing"/>).</summary>
    private static string With(string path, JsonNode? value)
    {
        var body = JsonNode.Parse(ValidBody)!.AsObject();
        var parts = path.Split('.');
        var parent = parts[..^1].Aggregate(body, (node, part) => node[part]!.AsObject());
        if (ReferenceEquals(value, Missing))
        {
            parent.Remove(parts[^1]);
        }
        else
        {
            parent[parts[^1]] = value?.DeepClone();
        }

        return body.ToJsonString();
    }

    /// <summary><paramref name="json"/> as UTF-8 with <paramref name="raw"/> bytes inserted right after <paramref name="after"/>.</summary>
    private static byte[] Utf8WithRaw(string json, string after, byte[] raw)
    {
        var at = json.IndexOf(after, StringComparison.Ordinal) + after.Length;
        return [.. Encoding.UTF8.GetBytes(json[..at]), .. raw, .. Encoding.UTF8.GetBytes(json[at..])];
    }

    private static HttpRequestMessage Post(string path, string json) => new(HttpMethod.Post, path) { Content = Bytes(Encoding.UTF8.GetBytes(json), Json) };

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static ByteArrayContent Bytes(byte[] body, string? contentType)
    {
        var content = new ByteArrayContent(body);
        if (contentType is not null)
        {
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        return content;
    }
}
