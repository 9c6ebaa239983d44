using System.Net;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>One finished run with at least eight log events, shared by the read-only logs tests.</summary>
public sealed class LogsFixture : IAsyncLifetime
{
    public const string Run = "pages";

    public ServerFactory Server { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public List<RunLogEvent> All { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Server.CreateAdminClient();

        // Forty lines, gated apart five by five (LogGates): at least eight events, however busy the machine.
        var gates = new LogGates(every: 5);
        string[] lines = [.. Enumerable.Range(1, 40).Select(i => $"line-{i}")];
        await Client.SubmitAsync(new SubmitRunRequest(gates.Commands(lines), RunName: Run));
        await gates.RunThroughAsync(Client, Run, lines);
        var whole = await Client.GetLogsAsync(Run);
        Assert.Null(whole.NextToken);
        All = [.. whole.Logs];
        Assert.True(All.Count > 5, $"Only {All.Count} events were stored.");
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

public sealed class LogsTests(LogsFixture fixture) : IClassFixture<LogsFixture>
{
    private const string Run = LogsFixture.Run;
    private readonly HttpClient _client = fixture.Client;
    private readonly List<RunLogEvent> _all = fixture.All;

    [Fact]
    public void Events_AreInTimeOrder_AndHoldEveryLine()
    {
        Assert.Equal(_all.OrderBy(e => e.Timestamp), _all);
        var text = string.Concat(_all.Select(e => System.Text.Encoding.UTF8.GetString(e.Message)));
        for (var i = 1; i <= 40; i++)
        {
            Assert.Contains($"line-{i}\n", text, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 3)]
    [InlineData(true, 1)]
    [InlineData(true, 4)]
    public async Task Paging_ReturnsEveryEventOnce(bool descending, int limit)
    {
        var seen = new List<RunLogEvent>();
        string? token = null;
        var pages = 0;
        do
        {
            var query = $"?limit={limit}&descending={(descending ? "true" : "false")}" + (token is null ? "" : $"&next_token={token}");
            var page = await _client.GetLogsAsync(Run, query);
            Assert.InRange(page.Logs.Count, 1, limit);
            seen.AddRange(page.Logs);
            token = page.NextToken;
            Assert.True(++pages <= _all.Count, "Paging does not end.");
        }
        while (token is not null);

        var expected = descending ? Enumerable.Reverse(_all).ToList() : _all;
        Assert.Equal(expected.Select(e => e.Timestamp), seen.Select(e => e.Timestamp));
        Assert.Equal(expected.Select(e => Convert.ToBase64String(e.Message)), seen.Select(e => Convert.ToBase64String(e.Message)));
    }

    [Fact]
    public async Task StartTime_IsExclusive_AndEndTimeInclusive()
    {
        var from = _all[2].Timestamp;
        var until = _all[5].Timestamp;
        var page = await _client.GetLogsAsync(Run, $"?start_time={Wire(from)}&end_time={Wire(until)}");
        Assert.Equal(_all.Skip(3).Take(3).Select(e => e.Timestamp), page.Logs.Select(e => e.Timestamp));
    }

    [Fact]
    public async Task Text_IsTheStoredBytesInOrder()
    {
        var text = await _client.GetLogsTextAsync(Run);
        Assert.Equal(_all.SelectMany(e => e.Message).ToArray(), text);
    }

    [Fact]
    public async Task TamperedToken_IsRefused()
    {
        var first = await _client.GetLogsAsync(Run, "?limit=1");
        var token = first.NextToken!;
        var tampered = (token[5] == 'A' ? 'B' : 'A') + "";
        tampered = token[..5] + tampered + token[6..];

        using var response = await _client.GetAsync(new Uri($"/api/runs/{Run}/logs?limit=1&next_token={tampered}", UriKind.Relative));
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);

        using var otherDirection = await _client.GetAsync(new Uri($"/api/runs/{Run}/logs?limit=1&descending=true&next_token={token}", UriKind.Relative));
        await ApiClient.AssertProblemAsync(otherDirection, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task TokenOfAnotherRun_IsRefused()
    {
        await _client.SubmitAsync(new SubmitRunRequest(["echo other"], RunName: "other"));
        await _client.WaitForEndAsync("other");
        var token = (await _client.GetLogsAsync(Run, "?limit=1")).NextToken!;

        using var response = await _client.GetAsync(new Uri($"/api/runs/other/logs?limit=1&next_token={token}", UriKind.Relative));
        await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    private static string Wire(DateTimeOffset time) =>
        Uri.EscapeDataString(LogQuota.Shared.Json.UtcMillisecondsDateTimeOffsetConverter.ToWire(time));
}
