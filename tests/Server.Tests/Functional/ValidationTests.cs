using System.Net;
using System.Text;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>A server holding one finished run, shared by the bad-request tests (none of them may change it).</summary>
public sealed class ValidationFixture : IAsyncLifetime
{
    public const string Existing = "existing";

    public ServerFactory Server { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Server.CreateAdminClient();
        await Client.SubmitAsync(new SubmitRunRequest(["echo kept"], RunName: Existing));
        await Client.WaitForEndAsync(Existing);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

/// <summary>Malformed bodies and parameters: each gets a 4xx problem details answer and writes nothing.</summary>
public sealed class ValidationTests(ValidationFixture fixture) : IClassFixture<ValidationFixture>
{
    private const string Json = "application/json";

    public static TheoryData<string, string, string, string?, string?, int> Cases() => new()
    {
        { "empty body", "POST", "/api/runs", Json, "", 400 },
        { "not JSON", "POST", "/api/runs", Json, "run this please", 400 },
        { "truncated JSON", "POST", "/api/runs", Json, "{\"commands\": [\"echo\"", 400 },
        { "null body", "POST", "/api/runs", Json, "null", 400 },
        { "array body", "POST", "/api/runs", Json, "[]", 400 },
        { "string body", "POST", "/api/runs", Json, "\"echo hi\"", 400 },
        { "number body", "POST", "/api/runs", Json, "42", 400 },
        { "no commands", "POST", "/api/runs", Json, "{}", 400 },
        { "null commands", "POST", "/api/runs", Json, "{\"commands\": null}", 400 },
        { "commands not a list", "POST", "/api/runs", Json, "{\"commands\": \"echo hi\"}", 400 },
        { "empty commands", "POST", "/api/runs", Json, "{\"commands\": []}", 400 },
        { "null command", "POST", "/api/runs", Json, "{\"commands\": [null]}", 400 },
        { "number command", "POST", "/api/runs", Json, "{\"commands\": [1]}", 400 },
        { "empty command", "POST", "/api/runs", Json, "{\"commands\": [\"\"]}", 400 },
        { "blank command", "POST", "/api/runs", Json, "{\"commands\": [\"   \"]}", 400 },
        { "NUL in command", "POST", "/api/runs", Json, "{\"commands\": [\"echo \\u0000\"]}", 400 },
        { "too many commands", "POST", "/api/runs", Json, "{\"commands\": [" + string.Join(',', Enumerable.Repeat("\"true\"", 1001)) + "]}", 400 },
        { "unknown field", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"gpu\": 8}", 400 },
        { "misspelled field", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"runName\": \"x\"}", 400 },
        { "uppercase run_name", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"Upper\"}", 400 },
        { "run_name starting with a digit", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"1abc\"}", 400 },
        { "run_name with underscore", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"a_b\"}", 400 },
        { "empty run_name", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"\"}", 400 },
        { "run_name of 42 characters", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"a" + new string('b', 41) + "\"}", 400 },
        { "run_name with a trailing newline", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"abc\\n\"}", 400 },
        { "number run_name", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": 5}", 400 },
        { "duplicate run_name", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"run_name\": \"existing\"}", 409 },
        { "env as a list", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"env\": [\"A=1\"]}", 400 },
        { "env null value", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"env\": {\"A\": null}}", 400 },
        { "env number value", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"env\": {\"A\": 1}}", 400 },
        { "env name starting with a digit", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"env\": {\"1A\": \"x\"}}", 400 },
        { "env name with =", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"env\": {\"A=B\": \"x\"}}", 400 },
        { "empty env name", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"env\": {\"\": \"x\"}}", 400 },
        { "empty working_dir", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"working_dir\": \"\"}", 400 },
        { "relative working_dir leaving the code", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"working_dir\": \"src/../../app\"}", 400 },
        { "commands too long in all", "POST", "/api/runs", Json, "{\"commands\": [" + string.Join(',', Enumerable.Repeat("\"" + new string('x', 60_000) + "\"", 5)) + "]}", 400 },
        { "number working_dir", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"working_dir\": 5}", 400 },
        { "zero max_duration", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"max_duration\": 0}", 400 },
        { "negative max_duration", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"max_duration\": -5}", 400 },
        { "string max_duration", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"max_duration\": \"10\"}", 400 },
        { "fractional max_duration", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"max_duration\": 1.5}", 400 },
        { "overflowing max_duration", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"max_duration\": 99999999999}", 400 },
        { "zero log_quota_hour", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"log_quota_hour\": 0}", 400 },
        { "negative log_quota_hour", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"log_quota_hour\": -1}", 400 },
        { "string log_quota_hour", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"log_quota_hour\": \"1000\"}", 400 },
        { "exponent log_quota_hour", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"log_quota_hour\": 1e3}", 400 },
        { "overflowing log_quota_hour", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"log_quota_hour\": 99999999999999999999}", 400 },
        { "log_quota_hour above the server's", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"log_quota_hour\": 52428801}", 400 },
        { "string tty", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"tty\": \"yes\"}", 400 },
        { "number tty", "POST", "/api/runs", Json, "{\"commands\": [\"true\"], \"tty\": 1}", 400 },
        { "text content type", "POST", "/api/runs", "text/plain", "{\"commands\": [\"true\"]}", 415 },
        { "no content type", "POST", "/api/runs", null, "{\"commands\": [\"true\"]}", 415 },
        { "limit 0", "GET", "/api/runs/existing/logs?limit=0", null, null, 400 },
        { "limit 1001", "GET", "/api/runs/existing/logs?limit=1001", null, null, 400 },
        { "negative limit", "GET", "/api/runs/existing/logs?limit=-1", null, null, 400 },
        { "text limit", "GET", "/api/runs/existing/logs?limit=ten", null, null, 400 },
        { "fractional limit", "GET", "/api/runs/existing/logs?limit=1.5", null, null, 400 },
        { "descending maybe", "GET", "/api/runs/existing/logs?descending=maybe", null, null, 400 },
        { "bad start_time", "GET", "/api/runs/existing/logs?start_time=yesterday", null, null, 400 },
        { "bad end_time", "GET", "/api/runs/existing/logs?end_time=2026-13-45T99:00:00Z", null, null, 400 },
        { "end_time before start_time", "GET", "/api/runs/existing/logs?start_time=2026-01-02T00:00:00Z&end_time=2026-01-01T00:00:00Z", null, null, 400 },
        { "garbage next_token", "GET", "/api/runs/existing/logs?next_token=not-a-token", null, null, 400 },
        { "forged next_token", "GET", "/api/runs/existing/logs?next_token=AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", null, null, 400 },
        { "unknown format", "GET", "/api/runs/existing/logs?format=xml", null, null, 400 },
        { "text format with limit", "GET", "/api/runs/existing/logs?format=text&limit=5", null, null, 400 },
        { "logs of an unknown run", "GET", "/api/runs/nope/logs", null, null, 404 },
        { "unknown run", "GET", "/api/runs/nope", null, null, 404 },
        { "stop an unknown run", "POST", "/api/runs/nope/stop", null, null, 404 },
        { "delete an unknown run", "DELETE", "/api/runs/nope", null, null, 404 },
        { "unsupported method", "PUT", "/api/runs", Json, "{\"commands\": [\"true\"]}", 405 },
        { "unknown endpoint", "GET", "/api/nothing-here", null, null, 404 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task BadRequest_IsAProblem_AndWritesNothing(string why, string method, string path, string? contentType, string? body, int status)
    {
        Assert.False(string.IsNullOrEmpty(why));
        var before = await fixture.Server.CountRowsAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(path, UriKind.Relative));
        if (body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
            if (contentType is not null)
            {
                request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
            }
        }

        using var response = await fixture.Client.SendAsync(request);

        await ApiClient.AssertProblemAsync(response, (HttpStatusCode)status);
        Assert.Equal(before, await fixture.Server.CountRowsAsync());
        Assert.Equal(ValidationFixture.Existing, Assert.Single(await fixture.Client.ListRunsAsync()).RunName);
    }

    [Theory]
    [InlineData("{\"commands\": \"echo hi\"}", "The body is not a valid run: `commands` must be a list of strings.")]
    [InlineData("{\"commands\": [\"true\"], \"bogus\": 1}", "The body is not a valid run: unknown field `bogus`; the fields are: commands, run_name,")]
    [InlineData("not json", "The body is not a valid run: it is not valid JSON (line 1, byte 2).")]
    [InlineData("{\"commands\": [\"true\"], \"max_duration\": \"10\"}", "The body is not a valid run: `max_duration` must be a whole number from")]
    public async Task BadBody_IsExplainedByItsJsonNames_NeverByDotNetTypes(string body, string expected)
    {
        using var response = await fixture.Client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(body));

        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith(expected, detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ThereAreAtLeastThirtyCases() => Assert.True(Cases().Count >= 30);
}
