using System.Text.Json;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Shared.Tests.Json;

/// <summary>A body that cannot be read is explained by its JSON names and what they expect, never by .NET types.</summary>
public sealed class JsonErrorsTests
{
    private const string Job = """{"commands": ["true"]}""";
    private const string Run = "\"run\": {\"id\": \"5f2c8a90-1b2d-4e3f-8a7b-6c5d4e3f2a1b\", \"run_name\": \"r\"}";

    [Theory]
    [InlineData("""{"commands": "echo hi"}""", "`commands` must be a list of strings.")]
    [InlineData("""{"commands": [1]}""", "`commands[0]` must be a string.")]
    [InlineData("""{"commands": ["a"], "bogus": 1}""", "unknown field `bogus`; the fields are: commands, run_name, env,")]
    [InlineData("""{"commands": ["a"], "env": {"A": 1}}""", "`env.A` must be a string.")]
    [InlineData("""{"commands": ["a"], "env": []}""", "`env` must be an object of strings.")]
    [InlineData("""{"commands": ["a"], "max_duration": "1h"}""", "`max_duration` must be a whole number")]
    [InlineData("""{"commands": ["a"], "max_duration": 1e99}""", "`max_duration` must be a whole number")]
    [InlineData("""{"commands": ["a"], "tty": "yes"}""", "`tty` must be true or false.")]
    [InlineData("""{"commands": null}""", "`commands` must be a list of strings, not null.")]
    [InlineData("""{"run_name": "x"}""", "`commands` is required.")]
    [InlineData("""{"commands": ["a"], "commands": ["b"]}""", "the field `commands` is given more than once.")]
    [InlineData("not json", "it is not valid JSON (line 1, byte 2).")]
    [InlineData("""{"commands": ["a"]""", "it is not valid JSON")]
    [InlineData("[]", "it must be a JSON object.")]
    [InlineData("\"text\"", "it must be a JSON object.")]
    public void SubmitRunRequest_ErrorsNameTheFieldAndWhatItExpects(string body, string expected) =>
        AssertDescribes<SubmitRunRequest>(body, expected);

    [Theory]
    [InlineData("""{"job_id": "not-a-uuid", RUN, "job_spec": JOB}""", "`job_id` must be a UUID.")]
    [InlineData("""{"job_id": 12, RUN, "job_spec": JOB}""", "`job_id` must be a UUID.")]
    [InlineData("""{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", RUN, "job_spec": {"commands": ["a"], "bogus": 1}}""",
        "unknown field `job_spec.bogus`; the fields are: commands,")]
    [InlineData("""{"job_id": "0b4a3f4e-5a36-4c1e-9d0e-3b1f2a6c7d80", RUN, "job_spec": {"commands": "a"}}""",
        "`job_spec.commands` must be a list of strings.")]
    public void SubmitBody_ErrorsNameTheFieldAndWhatItExpects(string body, string expected) =>
        AssertDescribes<SubmitBody>(body.Replace("RUN", Run, StringComparison.Ordinal).Replace("JOB", Job, StringComparison.Ordinal), expected);

    private static void AssertDescribes<T>(string body, string expected)
    {
        var e = Assert.ThrowsAny<JsonException>(() => JsonSerializer.Deserialize<T>(body, LogQuotaJson.StrictOptions));
        var detail = JsonErrors.Describe(e, typeof(T), LogQuotaJson.StrictOptions);
        Assert.True(detail.StartsWith(expected, StringComparison.Ordinal), $"{detail}\n(from: {e.Message})");
        Assert.DoesNotContain("LogQuota.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain(".NET", detail, StringComparison.Ordinal);
    }
}
