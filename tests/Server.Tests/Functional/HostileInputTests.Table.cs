using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LogQuota.Runner.Tests;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>The table of malformed requests: one mutation of a valid request each, grouped by what they break.</summary>
public sealed partial class HostileInputTests
{
    private static Dictionary<string, HostileRequest> BuildTable()
    {
        var table = new Dictionary<string, HostileRequest>(StringComparer.Ordinal);
        void Add(string name, int? status, Func<HostileInputFixture, HttpRequestMessage> build) => table.Add(name, new HostileRequest(status, build));
        void Submit(string name, int? status, string json) => Add(name, status, _ => Post(json));
        void SubmitBytes(string name, int? status, byte[] body, string? contentType = Json) =>
            Add(name, status, _ => new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = Bytes(body, contentType) });
        void Mutate(string name, string field, JsonNode? value) => Submit(name, 400, With(field, value));

        // Wrong JSON types, for every field.
        var wrongTypes = new Dictionary<string, JsonNode?[]>
        {
            ["run_name"] = [5, true, 1.5, new JsonArray(), new JsonObject()],
            ["commands"] = ["echo hi", 5, true, new JsonObject(), new JsonArray(5), new JsonArray(true), new JsonArray(new JsonArray()), new JsonArray(new JsonObject()), new JsonArray((JsonNode?)null), null],
            ["env"] = ["A=1", 5, true, new JsonArray("A=1"), new JsonObject { ["A"] = 5 }, new JsonObject { ["A"] = true }, new JsonObject { ["A"] = null }, new JsonObject { ["A"] = new JsonArray() }, new JsonObject { ["A"] = new JsonObject() }],
            ["working_dir"] = [5, true, new JsonArray(), new JsonObject()],
            ["max_duration"] = ["60", true, new JsonArray(), new JsonObject(), 1.5, JsonNode.Parse("1e2")],
            ["log_quota_hour"] = ["1000", true, new JsonArray(), new JsonObject(), 1.5, JsonNode.Parse("1e3")],
            ["tty"] = ["true", "yes", 1, 0, new JsonArray(), new JsonObject()],
        };
        foreach (var (field, values) in wrongTypes)
        {
            foreach (var value in values)
            {
                Mutate($"{field} = {value?.ToJsonString() ?? "null"}", field, value);
            }
        }

        // Missing required fields, unknown and misspelled fields, duplicate keys.
        Mutate("commands missing", "commands", Missing);
        foreach (var unknown in new[] { "gpu", "runName", "RUN_NAME", "Commands", "logQuotaHour", "__proto__", "" })
        {
            Submit($"unknown field '{unknown}'", 400, WithExtra(unknown, 1));
        }

        Submit("duplicate key commands", 400, """{"commands": ["echo one"], "commands": ["echo two"]}""");
        Submit("duplicate key run_name", 400, """{"run_name": "dup-a", "commands": ["true"], "run_name": "dup-b"}""");
        Submit("duplicate key in env", 400, """{"commands": ["true"], "env": {"A": "1", "A": "2"}}""");
        Submit("duplicate key log_quota_hour", 400, """{"commands": ["true"], "log_quota_hour": 1, "log_quota_hour": 99999999999}""");

        // Out-of-range numbers: negative, zero, overflow, above the server's quota.
        foreach (var value in new[] { "0", "-1", "-2147483648", "2147483648", "99999999999999999999", "-0" })
        {
            Submit($"max_duration = {value}", 400, With("max_duration", JsonNode.Parse(value)));
        }

        foreach (var value in new[] { "0", "-1", "-9223372036854775808", "9223372036854775808", "99999999999999999999999", "52428801" })
        {
            Submit($"log_quota_hour = {value}", 400, With("log_quota_hour", JsonNode.Parse(value)));
        }

        // Run names off ^[a-z][a-z0-9-]{0,40}$, traversal included.
        foreach (var runName in new[]
                 {
                     "", "Upper", "1abc", "-abc", "a_b", "a b", "a.b", "a/b", "../etc", "..", "a\n", "abc\r\n", "a\u0000b", "é", "a" + new string('b', 41),
                     new string('a', 10_000), "kept\u200b", "ｋept",
                 })
        {
            Mutate($"run_name = {JsonSerializer.Serialize(runName)[..Math.Min(40, JsonSerializer.Serialize(runName).Length)]}", "run_name", runName);
        }

        Submit("run_name of an existing run", 409, With("run_name", HostileInputFixture.Run));

        // Commands: empty, blank, NUL, too many, too long.
        foreach (var (name, commands) in new (string, string[])[]
                 {
                     ("no commands", []),
                     ("empty command", [""]),
                     ("blank command", ["  \t "]),
                     ("a blank command among good ones", ["echo a", " ", "echo b"]),
                     ("NUL in a command", ["echo a\u0000b"]),
                     ("NUL alone", ["\u0000"]),
                     ("too many commands", [.. Enumerable.Repeat("true", JobSpecRules.MaxCommands + 1)]),
                     ("script one byte too long", [new string('x', JobSpecRules.MaxScriptBytes + 1)]),
                     ("script too long in multibyte characters", [new string('é', (JobSpecRules.MaxScriptBytes / 2) + 1)]),
                     ("script too long by its joins", [.. Enumerable.Repeat(new string('x', JobSpecRules.MaxScriptBytes / 1000), 1000)]),
                 })
        {
            Mutate(name, "commands", new JsonArray([.. commands.Select(c => (JsonNode?)c)]));
        }

        // Env: bad names (=, NUL, ...), NUL values, too many, too long.
        foreach (var envName in new[] { "A=B", "=", "", "1A", "A B", "A-B", "é", "A\n", "A\u0000", "\u0000", "A.B", "$A" })
        {
            Mutate($"env name {JsonSerializer.Serialize(envName)}", "env", new JsonObject { [envName] = "x" });
        }

        Mutate("env value with NUL", "env", new JsonObject { ["A"] = "x\u0000y" });
        Mutate("too many env entries", "env", new JsonObject(Enumerable.Range(0, JobSpecRules.MaxEnvEntries + 1).Select(i => KeyValuePair.Create($"V{i}", (JsonNode?)"x"))));
        Mutate("env entry one byte too long", "env", new JsonObject { ["A"] = new string('x', JobSpecRules.MaxEnvEntryBytes - 1) });

        // Working directories: empty, out of the code directory, traversal, NUL, too long.
        foreach (var dir in new[] { "", "..", "../up", "./..", "src/../../x", "/tmp/../etc", "/..", "/tmp/x/../../root", "/tmp/\u0000", new string('/', 1) + new string('d', 4095) })
        {
            Mutate($"working_dir = {JsonSerializer.Serialize(dir)[..Math.Min(40, JsonSerializer.Serialize(dir).Length)]}", "working_dir", dir);
        }

        // Not a JSON object at all: empty, null, other values, truncated at every tenth byte, text, deep nesting.
        foreach (var text in new[] { "", " ", "null", "[]", "\"echo hi\"", "42", "true", "run this please", "commands=echo", "<run><commands>echo</commands></run>", "commands:\n  - echo", "{", "}", "{\"commands\"", "{'commands': ['echo']}", "{commands: [\"echo\"]}", "{\"commands\": [\"echo\"],}", "{\"commands\": [\"echo\"]} trailing", "{\"commands\": [\"echo\"]}{}" })
        {
            Submit($"body {JsonSerializer.Serialize(text)}", 400, text);
        }

        for (var cut = 1; cut < ValidBody.Trim().Length - 1; cut += 10)
        {
            Submit($"valid body truncated to {cut} bytes", 400, ValidBody.Trim()[..cut]);
        }

        Submit("array nested 10000 deep", 400, new string('[', 10_000) + new string(']', 10_000));
        Submit("env nested 100 deep", 400, "{\"commands\": [\"true\"], \"env\": " + string.Concat(Enumerable.Repeat("{\"A\": ", 100)) + "1" + new string('}', 101));
        Submit("command nested 100 deep", 400, "{\"commands\": " + new string('[', 100) + "\"x\"" + new string(']', 100) + "}");

        // Invalid UTF-8 and invalid escapes.
        SubmitBytes("invalid UTF-8 in a command", 400, Utf8WithRaw("{\"commands\": [\"echo ", [0xFF, 0xFE], "\"]}"));
        SubmitBytes("overlong UTF-8 slash in working_dir", 400, Utf8WithRaw("{\"commands\": [\"true\"], \"working_dir\": \"/tmp", [0xC0, 0xAF], "etc\"}"));
        SubmitBytes("truncated UTF-8 sequence in run_name", 400, Utf8WithRaw("{\"commands\": [\"true\"], \"run_name\": \"ab", [0xE2, 0x82], "\"}"));
        SubmitBytes("invalid UTF-8 in an env name", 400, Utf8WithRaw("{\"commands\": [\"true\"], \"env\": {\"A", [0x80], "\": \"x\"}}"));
        SubmitBytes("invalid UTF-8 outside strings", 400, Utf8WithRaw("{\"commands\": [\"true\"]", [0xFF], "}"));
        SubmitBytes("UTF-16 body", 400, Encoding.Unicode.GetBytes("{\"commands\": [\"true\"]}"));
        Submit("lone surrogate escape in a command", 400, "{\"commands\": [\"echo \\ud800\"]}");
        Submit("bad escape in a command", 400, "{\"commands\": [\"echo \\x41\"]}");
        Submit("raw control character in a string", 400, "{\"commands\": [\"echo \u0001\"]}");

        // Wrong or missing content types.
        foreach (var contentType in new[] { "text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/octet-stream" })
        {
            SubmitBytes($"content type {contentType}", 415, Encoding.UTF8.GetBytes(ValidBody), contentType);
        }

        SubmitBytes("no content type", 415, Encoding.UTF8.GetBytes(ValidBody), null);

        // Bodies beyond the 1 MiB limit, with a length and chunked.
        var huge = With("commands", new JsonArray(new string('x', JobSpecRules.MaxBodyBytes + 10)));
        Submit("body over 1 MiB", 413, huge);
        Add("chunked body over 1 MiB", 413, _ => new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = new ChunkedContent(Encoding.UTF8.GetBytes(huge), Json) });

        // Logs query parameters.
        foreach (var query in new[]
                 {
                     "limit=0", "limit=1001", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=%201", "limit=1e3", "limit=99999999999", "limit=0x10", "limit=%EF%BC%91",
                     "limit=1&limit=2", "descending=maybe", "descending=1", "descending=yes", "descending=", "start_time=yesterday", "start_time=", "start_time=2026-13-45T99:00:00Z",
                     "start_time=%00", "end_time=garbage", "end_time=1e99", "start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z", "format=xml", "format=TEXT",
                     "format=text&limit=5", "format=text&descending=true", "next_token=", "next_token=not-a-token", "next_token=%00",
                     "next_token=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                 })
        {
            Add($"logs?{query}", 400, _ => Get($"/api/runs/{HostileInputFixture.Run}/logs?{query}"));
        }

        Add("logs?next_token of 4000 characters", 400, _ => Get($"/api/runs/{HostileInputFixture.Run}/logs?next_token={new string('A', 4000)}"));

        // Tampered, truncated and foreign next_tokens.
        foreach (var (name, tamper) in new (string, Func<HostileInputFixture, string>)[]
                 {
                     ("last character changed", f => f.Token[..^1] + (f.Token[^1] == 'A' ? 'B' : 'A')),
                     ("first character changed", f => (f.Token[0] == 'A' ? 'B' : 'A') + f.Token[1..]),
                     ("middle character changed", f => f.Token[..10] + (f.Token[10] == 'A' ? 'B' : 'A') + f.Token[11..]),
                     ("truncated by one", f => f.Token[..^1]),
                     ("truncated to half", f => f.Token[..(f.Token.Length / 2)]),
                     ("extended by one", f => f.Token + "A"),
                     ("doubled", f => f.Token + f.Token),
                     ("of another run", f => f.ForeignToken),
                     ("of the other direction", f => f.DescendingToken),
                     ("reversed", f => new string(f.Token.Reverse().ToArray())),
                 })
        {
            Add($"next_token {name}", 400, f => Get($"/api/runs/{HostileInputFixture.Run}/logs?limit=1&next_token={tamper(f)}"));
        }

        Add("descending token used ascending", 400, f => Get($"/api/runs/{HostileInputFixture.Run}/logs?next_token={f.DescendingToken}"));

        // Bad run names in paths: traversal, encoded separators, NUL, unknown.
        // (A NUL in the path never reaches the app: Kestrel refuses it; see KestrelRefusals_BeforeTheApp_Are4xx.)
        foreach (var path in new[] { "nope", "..%2F..%2Fetc%2Fpasswd", "%2E%2E", "%2E%2E%2Fkept", "KEPT", "kept%20", new string('a', 4000), "kept%2Flogs", "kept%0A", "%E2%80%AEkept" })
        {
            Add($"GET run {path[..Math.Min(30, path.Length)]}", 404, _ => Get($"/api/runs/{path}"));
            Add($"stop run {path[..Math.Min(30, path.Length)]}", 404, _ => new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{path}/stop"));
            Add($"delete run {path[..Math.Min(30, path.Length)]}", 404, _ => new HttpRequestMessage(HttpMethod.Delete, $"/api/runs/{path}"));
            Add($"logs of run {path[..Math.Min(30, path.Length)]}", 404, _ => Get($"/api/runs/{path}/logs"));
        }

        // Code uploads (SPEC §9): names that are not a SHA-256, bodies that are not the named gzip'd tar, code_hash on a submit.
        var project = TestArchives.Project();
        var projectSha = TestArchives.Sha256(project);
        foreach (var name in new[] { "nope", projectSha.ToUpperInvariant(), projectSha[..63], projectSha + "0", "..%2F..%2Fetc%2Fpasswd", new string('g', 64) })
        {
            Add($"PUT code named {name[..Math.Min(20, name.Length)]} ({name.Length} characters)", 400, _ => PutCode(name, project));
        }

        foreach (var (why, body) in new (string, byte[])[]
                 {
                     ("an empty body", []),
                     ("a JSON body", Encoding.UTF8.GetBytes(ValidBody)),
                     ("gzip of text", TestArchives.Gzip("print('hi')\n"u8.ToArray())),
                     ("gzip cut in half", project[..(project.Length / 2)]),
                     ("gzip with its trailer cut", project[..^4]),
                     ("gzip of a tar header alone", TestArchives.Gzip([.. new byte[100], .. Encoding.ASCII.GetBytes("0000644"), .. new byte[405]])),
                 })
        {
            Add($"PUT code: {why}", 400, _ => PutCode(TestArchives.Sha256(body), body));
        }

        Add("PUT code under another archive's name", 400, _ => PutCode(TestArchives.Sha256(TestArchives.Project("other")), project));
        Add("PUT code chunked under another archive's name", 400, _ => new HttpRequestMessage(HttpMethod.Put, $"/api/code/{TestArchives.Sha256(TestArchives.Project("other"))}") { Content = new ChunkedContent(project, "application/gzip") });
        Submit("code_hash unknown", 404, With("code_hash", TestArchives.Sha256(TestArchives.Project("never uploaded"))));
        foreach (var hash in new[] { "", "abc", projectSha.ToUpperInvariant(), "../" + projectSha[3..], projectSha + "\n" })
        {
            Mutate($"code_hash = {JsonSerializer.Serialize(hash)[..Math.Min(20, JsonSerializer.Serialize(hash).Length)]}", "code_hash", hash);
        }

        Mutate("code_hash = 5", "code_hash", 5);
        Add("POST /api/code", 405, _ => new HttpRequestMessage(HttpMethod.Post, $"/api/code/{projectSha}") { Content = TestArchives.Content(project) });

        // Wrong methods and unknown endpoints.
        Add("PUT /api/runs", 405, _ => new HttpRequestMessage(HttpMethod.Put, "/api/runs") { Content = Content(ValidBody) });
        Add("PATCH a run", 405, _ => new HttpRequestMessage(HttpMethod.Patch, $"/api/runs/{HostileInputFixture.Run}") { Content = Content("{}") });
        Add("DELETE /api/runs", 405, _ => new HttpRequestMessage(HttpMethod.Delete, "/api/runs"));
        Add("POST logs", 405, _ => new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{HostileInputFixture.Run}/logs") { Content = Content("{}") });
        Add("GET stop", 405, _ => Get($"/api/runs/{HostileInputFixture.Run}/stop"));
        Add("unknown endpoint", 404, _ => Get("/api/nothing-here"));
        Add("unknown sub-resource", 404, _ => Get($"/api/runs/{HostileInputFixture.Run}/secrets"));
        return table;
    }

    /// <summary><see cref="ValidBody"/> with <paramref name="field"/> set to <paramref name="value"/> (removed for <see cref="Missing"/>).</summary>
    private static string With(string field, JsonNode? value)
    {
        var body = JsonNode.Parse(ValidBody)!.AsObject();
        if (ReferenceEquals(value, Missing))
        {
            body.Remove(field);
        }
        else
        {
            body[field] = value?.DeepClone();
        }

        return body.ToJsonString();
    }

    private static string WithExtra(string field, JsonNode value)
    {
        var body = JsonNode.Parse(ValidBody)!.AsObject();
        body[field] = value;
        return body.ToJsonString();
    }

    private static byte[] Utf8WithRaw(string before, byte[] raw, string after) =>
        [.. Encoding.UTF8.GetBytes(before), .. raw, .. Encoding.UTF8.GetBytes(after)];

    private static HttpRequestMessage Post(string json) => new(HttpMethod.Post, "/api/runs") { Content = Content(json) };

    private static HttpRequestMessage Get(string path) => new(HttpMethod.Get, path);

    private static HttpRequestMessage PutCode(string name, byte[] body) => new(HttpMethod.Put, $"/api/code/{name}") { Content = TestArchives.Content(body) };

    private static ByteArrayContent Content(string json) => Bytes(Encoding.UTF8.GetBytes(json), Json);

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
