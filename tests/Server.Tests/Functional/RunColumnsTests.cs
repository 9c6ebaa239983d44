using System.Net;
using System.Text.Json;
using LogQuota.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Functional;

/// <summary><c>columns</c> on <c>POST /api/runs</c>: the width of the job's terminal, 20 to 1000, handed to the runner in the job's spec.</summary>
public sealed class RunColumnsTests
{
    [Theory]
    [InlineData("19", "columns must be a terminal width from 20 to 1000 characters; got 19.")]
    [InlineData("1001", "columns must be a terminal width from 20 to 1000 characters; got 1001.")]
    [InlineData("-5", "columns must be a terminal width from 20 to 1000 characters; got -5.")]
    [InlineData("\"wide\"", "`columns`")]
    [InlineData("99999999999", "`columns`")]
    public async Task AWidthOutOfRange_OrNotAWholeNumber_Is400_NamingTheField_AndStoresNothing(string columns, string detail)
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative),
            ApiClient.Json($$"""{"commands": ["echo never"], "columns": {{columns}}}"""));

        Assert.Contains(detail, await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Equal(0, (await server.CountRowsAsync()).Runs);
    }

    [Fact]
    public async Task AWidthInRange_IsInTheJobSpec_AndNoneLeavesItOut()
    {
        // A runner nobody answers at, and frozen time: the runs stay as submitted.
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" },
            configureServices: services => services.AddSingleton<TimeProvider>(new FakeTimeProvider(DateTimeOffset.UtcNow)));
        using var client = server.CreateAdminClient();

        using var narrow = await client.PostAsync(new Uri("/api/runs", UriKind.Relative),
            ApiClient.Json("""{"run_name": "narrow", "commands": ["tput cols"], "columns": 80}"""));
        Assert.Equal(HttpStatusCode.Created, narrow.StatusCode);
        using (var json = JsonDocument.Parse(await narrow.Content.ReadAsStringAsync()))
        {
            Assert.Equal(80, json.RootElement.GetProperty("jobs")[0].GetProperty("job_spec").GetProperty("columns").GetInt32());
        }

        using var plain = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json("""{"run_name": "plain", "commands": ["tput cols"]}"""));
        Assert.Equal(HttpStatusCode.Created, plain.StatusCode);
        using (var json = JsonDocument.Parse(await plain.Content.ReadAsStringAsync()))
        {
            Assert.False(json.RootElement.GetProperty("jobs")[0].GetProperty("job_spec").TryGetProperty("columns", out _));
        }
    }
}
