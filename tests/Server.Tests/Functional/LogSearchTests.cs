using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Tests.Functional;

/// <summary><c>logs?q=</c> and <c>logs?line=</c> over the logs fixture's run (lines <c>line-1</c> to <c>line-40</c>, one
/// or more per stored event).</summary>
public sealed class LogSearchTests(LogsFixture fixture) : IClassFixture<LogsFixture>
{
    private const string Run = LogsFixture.Run;
    private readonly HttpClient _client = fixture.Client;

    /// <summary>Every line of the stored log with its number, as the web page counts them: each event's text split at
    /// newlines, a trailing newline ending its last line.</summary>
    private readonly List<(long Line, string Text)> _lines = [.. fixture.All
        .SelectMany(e => Encoding.UTF8.GetString(e.Message) is var text && text.EndsWith('\n') ? text[..^1].Split('\n') : text.Split('\n'))
        .Select((text, index) => ((long)index + 1, text))];

    [Fact]
    public async Task Substring_IgnoresCase_AndAnswersLineNumbers()
    {
        var page = await SearchAsync("?q=LINE-1");

        var expected = _lines.Where(l => l.Text.Contains("line-1", StringComparison.Ordinal)).ToList();
        Assert.Equal(11, expected.Count);
        Assert.Equal(expected, page.Matches.Select(m => (m.Line, m.Text)));
        Assert.Null(page.NextToken);
        Assert.Equal(_lines.Count, page.LastLine);
    }

    [Fact]
    public async Task MatchCase_FindsNothing_WhenOnlyTheCaseDiffers()
    {
        var page = await SearchAsync("?q=LINE-1&match_case=true");

        Assert.Empty(page.Matches);
        Assert.Null(page.NextToken);
        Assert.Equal(_lines.Count, page.LastLine);
    }

    [Fact]
    public async Task Regex_MatchesEachLine()
    {
        var page = await SearchAsync($"?regex=true&q={Uri.EscapeDataString(@"^line-(7|3\d)$")}");

        Assert.Equal(["line-7", .. Enumerable.Range(30, 10).Select(i => $"line-{i}")], page.Matches.Select(m => m.Text));
        Assert.All(page.Matches, m => Assert.Equal(_lines[(int)m.Line - 1].Text, m.Text));
    }

    [Fact]
    public async Task Paging_ReturnsEveryMatchOnce_AcrossTokens()
    {
        var seen = new List<LogLine>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await SearchAsync("?q=line-2&limit=3" + (token is null ? "" : $"&next_token={token}"));
            Assert.InRange(page.Matches.Count, 0, 3);
            seen.AddRange(page.Matches);
            token = page.NextToken;
            Assert.True(++pages <= 20, "Paging does not end.");
        }
        while (token is not null);

        Assert.Equal(_lines.Where(l => l.Text.Contains("line-2", StringComparison.Ordinal)), seen.Select(m => (m.Line, m.Text)));
        Assert.True(pages >= 4, $"11 matches three a page came in {pages} pages.");
    }

    [Fact]
    public async Task Line_AnswersThatLine_AndLastTheLastOne()
    {
        var fifth = await SearchAsync("?line=5");
        var match = Assert.Single(fifth.Matches);
        Assert.Equal((5L, _lines[4].Text), (match.Line, match.Text));

        // The event holding line 5 starts at line 5 - line_in_event: the web page numbers a window from there.
        var events = await _client.GetLogsAsync(Run, $"?start_time={Uri.EscapeDataString(UtcMillisecondsDateTimeOffsetConverter.ToWire(match.Timestamp.AddMilliseconds(-1)))}&limit=1");
        var first = Encoding.UTF8.GetString(Assert.Single(events.Logs).Message).Split('\n')[0];
        Assert.Equal(_lines[(int)(match.Line - match.LineInEvent) - 1].Text, first);

        var last = Assert.Single((await SearchAsync("?line=last")).Matches);
        Assert.Equal((_lines[^1].Line, _lines[^1].Text), (last.Line, last.Text));

        var beyond = await SearchAsync($"?line={_lines.Count + 1}");
        Assert.Empty(beyond.Matches);
        Assert.Equal(_lines.Count, beyond.LastLine);
    }

    [Theory]
    [InlineData("?q=(unclosed&regex=true", "not a valid regular expression")]
    [InlineData("?q=", "q must be 1 to")]
    [InlineData("?q=x&format=text", "take only")]
    [InlineData("?q=x&descending=true", "take only")]
    [InlineData("?regex=true", "add q")]
    [InlineData("?line=0", "line must be")]
    [InlineData("?line=3&q=x", "cannot be combined")]
    [InlineData("?q=x&regex=maybe", "regex must be true or false")]
    [InlineData("?q=x&limit=1001", "limit must be")]
    [InlineData("?q=x&next_token=forged", "next_token")]
    public async Task BadSearch_Answers400_InPlainWords(string query, string words)
    {
        using var response = await _client.GetAsync(new Uri($"/api/runs/{Run}/logs{query}", UriKind.Relative));
        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(words, detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CatastrophicRegex_IsStopped_With400()
    {
        // (a+)+$ against forty a's and a '!' backtracks 2^40 times: no machine finishes that in the one second allowed.
        await _client.SubmitAsync(new SubmitRunRequest(["printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\\n'"], RunName: "backtracks"));
        await _client.WaitForEndAsync("backtracks");

        using var response = await _client.GetAsync(new Uri($"/api/runs/backtracks/logs?regex=true&q={Uri.EscapeDataString("(a+)+$")}", UriKind.Relative));
        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("took longer than 1 s", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenOfAnotherRun_IsRefused()
    {
        await _client.SubmitAsync(new SubmitRunRequest(["echo line-1; echo line-1"], RunName: "other-search"));
        await _client.WaitForEndAsync("other-search");
        var token = (await SearchAsync("?q=line&limit=1")).NextToken!;

        using var response = await _client.GetAsync(new Uri($"/api/runs/other-search/logs?q=line&next_token={token}", UriKind.Relative));
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    private async Task<LogSearchResponse> SearchAsync(string query)
    {
        using var response = await _client.GetAsync(new Uri($"/api/runs/{Run}/logs{query}", UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<LogSearchResponse>(LogQuotaJson.Options))!;
    }
}
