using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Logs;

/// <summary>
/// Colour and time beside the stored text, end to end through the server and its embedded runner (a real job on a
/// real pseudo-terminal): <c>format=text</c> stays the counted bytes, <c>format=ansi</c> rebuilds the colours and links,
/// the JSON pages carry the runs, and <c>timestamps=true</c> prefixes each line with the time it was stored.
/// </summary>
public sealed partial class StyledLogsTests : IAsyncLifetime
{
    private const string Coloured = "printf '\\033[1;31mFAILED\\033[0m test_a\\n\\033[32mPASSED\\033[0m test_b\\nplain\\n'";
    private const string Text = "FAILED test_a\nPASSED test_b\nplain\n";

    private ServerFactory Server { get; } = new();
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = Server.CreateAdminClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await Server.DisposeAsync();
    }

    [Fact]
    public async Task ColouredJob_CostsExactlyItsTextBytes_AndTextStaysTheStoredText()
    {
        var run = await RunAsync(Coloured);

        Assert.Equal(Text, await GetTextAsync(run, "format=text"));
        Assert.Equal(Encoding.UTF8.GetByteCount(Text), (await _client.GetRunAsync(run)).LogBytesHour);
    }

    [Fact]
    public async Task FormatAnsi_RebuildsTheColoursFromTheRuns()
    {
        var run = await RunAsync(Coloured);

        Assert.Equal("\e[1;31mFAILED\e[0m test_a\n\e[32mPASSED\e[0m test_b\nplain\n", await GetTextAsync(run, "format=ansi"));
    }

    [Fact]
    public async Task JsonPages_CarryTheRunsBesideTheBase64Text()
    {
        var run = await RunAsync(Coloured);

        var page = await _client.GetLogsAsync(run);
        var message = string.Concat(page.Logs.Select(e => Encoding.UTF8.GetString(e.Message)));
        Assert.Equal(Text, message);
        var styled = page.Logs.Where(e => e.Styles is not null).ToList();
        Assert.NotEmpty(styled);
        var spans = styled.SelectMany(e => Enumerable.Range(0, e.Styles!.Runs.Count / 3).Select(i =>
            (Encoding.UTF8.GetString(e.Message, e.Styles.Runs[3 * i], e.Styles.Runs[(3 * i) + 1]), e.Styles.Styles[e.Styles.Runs[(3 * i) + 2]].Sgr))).ToList();
        Assert.Equal([("FAILED", "1;31"), ("PASSED", "32")], spans);

        // On the wire: snake_case "styles" with "styles" and "runs"; absent on plain events.
        using var response = await _client.GetAsync(new Uri($"/api/runs/{run}/logs", UriKind.Relative));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var first = json.RootElement.GetProperty("logs")[0].GetProperty("styles");
        Assert.Equal("1;31", first.GetProperty("styles")[0].GetProperty("sgr").GetString());
        Assert.Equal(JsonValueKind.Array, first.GetProperty("runs").ValueKind);
    }

    [Fact]
    public async Task PlainJob_StoresNoRuns_AndAnsiIsItsText()
    {
        var run = await RunAsync("printf 'one\\ntwo\\n'");

        Assert.All((await _client.GetLogsAsync(run)).Logs, e => Assert.Null(e.Styles));
        Assert.Equal("one\ntwo\n", await GetTextAsync(run, "format=ansi"));
        Assert.Equal(0, await Server.QueryAsync(db => db.LogEvents.CountAsync(e => e.Styles != null)));
    }

    [Fact]
    public async Task Links_WithAnAllowedScheme_AreRebuilt_OthersStayPlainText()
    {
        var run = await RunAsync("printf '\\033]8;;https://example.com/x\\033\\\\docs\\033]8;;\\033\\\\ and \\033]8;;javascript:alert(1)\\033\\\\bad\\033]8;;\\033\\\\\\n'");

        Assert.Equal("docs and bad\n", await GetTextAsync(run, "format=text"));
        Assert.Equal("\e]8;;https://example.com/x\e\\docs\e]8;;\e\\ and bad\n", await GetTextAsync(run, "format=ansi"));
    }

    [Fact]
    public async Task TimestampsTrue_StartsEveryLineWithItsStoringTime()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var run = await RunAsync(Coloured);

        foreach (var (format, expected) in new[] { ("text", Text), ("ansi", "\e[1;31mFAILED\e[0m test_a\n\e[32mPASSED\e[0m test_b\nplain\n") })
        {
            var lines = (await GetTextAsync(run, $"format={format}&timestamps=true")).Split('\n')[..^1];
            var expectedLines = expected.Split('\n')[..^1];
            Assert.Equal(expectedLines.Length, lines.Length);
            for (int i = 0; i < lines.Length; i++)
            {
                var match = Stamped().Match(lines[i]);
                Assert.True(match.Success, $"line {i} has no time: {lines[i]}");
                Assert.Equal(expectedLines[i], match.Groups["text"].Value);
                var time = DateTimeOffset.Parse(match.Groups["time"].Value, System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(time, before, DateTimeOffset.UtcNow);
            }
        }
    }

    [Theory]
    [InlineData("format=html", "format must be json, text or ansi")]
    [InlineData("format=text&timestamps=yes", "timestamps must be true or false")]
    [InlineData("timestamps=true", "timestamps=true prefixes the lines of format=text or format=ansi")]
    [InlineData("format=ansi&limit=5", "format=ansi streams the whole log in order")]
    public async Task BadViewQueries_AreRefusedWithAClearProblem(string query, string detail)
    {
        var run = await RunAsync("echo hi");

        using var response = await _client.GetAsync(new Uri($"/api/runs/{run}/logs?{query}", UriKind.Relative));
        Assert.Contains(detail, await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^(?<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?<text>.*)$")]
    private static partial Regex Stamped();

    private async Task<string> RunAsync(string command)
    {
        var run = await _client.SubmitAsync(new SubmitRunRequest([command]));
        Assert.Equal(RunStatus.Done, (await _client.WaitForEndAsync(run.RunName)).Status);
        return run.RunName;
    }

    private async Task<string> GetTextAsync(string run, string query)
    {
        using var response = await _client.GetAsync(new Uri($"/api/runs/{run}/logs?{query}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}

/// <summary>What the server does with style runs a runner sends: well-formed ones are stored, anything else is dropped, the text kept.</summary>
public sealed class StyledLogsIngestTests
{
    [Fact]
    public async Task RunsThatAreNotWellFormed_AreNotStored_TheTextIs()
    {
        await using var runner = await FakeRunner.StartAsync();
        runner.AddState(JobState.Running);
        runner.AddLog("ok red\n"u8.ToArray(), new LogStyles([new LogStyle("31")], [3, 3, 0]));
        runner.AddLog("escape\n"u8.ToArray(), new LogStyles([new LogStyle("31m\e]0;x")], [0, 6, 0]));
        runner.AddLog("outside\n"u8.ToArray(), new LogStyles([new LogStyle("31")], [5, 10, 0]));
        runner.AddLog("link\n"u8.ToArray(), new LogStyles([new LogStyle("", "javascript:alert(1)")], [0, 4, 0]));
        runner.AddLog("unknown style\n"u8.ToArray(), new LogStyles([new LogStyle("1")], [0, 4, 1]));
        runner.AddState(JobState.Done, exitStatus: 0);
        await using var server = new ServerFactory(
            new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = FakeRunner.Token });
        using var client = server.CreateAdminClient();

        await client.SubmitAsync(new SubmitRunRequest(["anything"], RunName: "styles"));
        await client.WaitForEndAsync("styles");

        var logs = (await client.GetLogsAsync("styles")).Logs;
        Assert.Equal(["ok red\n", "escape\n", "outside\n", "link\n", "unknown style\n"], logs.Select(e => Encoding.UTF8.GetString(e.Message)));
        Assert.NotNull(logs[0].Styles);
        Assert.All(logs.Skip(1), e => Assert.Null(e.Styles));
        using var ansi = await client.GetAsync(new Uri("/api/runs/styles/logs?format=ansi", UriKind.Relative));
        Assert.Equal("ok \e[31mred\e[0m\nescape\noutside\nlink\nunknown style\n", await ansi.Content.ReadAsStringAsync());
    }
}
