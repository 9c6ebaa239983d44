using System.Net;
using System.Text.Json;
using LogQuota.Runner.Tests;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// End to end through the server and its embedded runner: a job's output is data, never markup. The text endpoint
/// serves exactly the bytes the job wrote, as text/plain that a browser may not sniff into HTML; the JSON endpoint
/// carries every message as base64, so control bytes, invalid UTF-8 and markup survive it unchanged.
/// </summary>
public sealed class OutputIsDataTests : IAsyncLifetime
{
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

    [Theory]
    [MemberData(nameof(HostileOutputs.InBothModes), MemberType = typeof(HostileOutputs))]
    public async Task Output_IsServedByteForByte_AsTextAndAsJson(string name, bool tty)
    {
        var (command, stored) = HostileOutputs.All[name];
        var run = await _client.SubmitAsync(new SubmitRunRequest([command], Tty: tty));
        Assert.Equal(RunStatus.Done, (await _client.WaitForEndAsync(run.RunName)).Status);

        using (var text = await _client.GetAsync(new Uri($"/api/runs/{run.RunName}/logs?format=text", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, text.StatusCode);
            Assert.Equal("text/plain; charset=utf-8", text.Content.Headers.ContentType?.ToString());
            Assert.Equal("nosniff", string.Join(',', text.Headers.GetValues("X-Content-Type-Options")));
            var bytes = await text.Content.ReadAsByteArrayAsync();
            Assert.True(stored.AsSpan().SequenceEqual(bytes), HostileOutputs.Difference(stored, bytes));
        }

        var messages = new List<byte[]>();
        string? token = null;
        do
        {
            using var page = await _client.GetAsync(new Uri($"/api/runs/{run.RunName}/logs{(token is null ? "" : $"?next_token={token}")}", UriKind.Relative));
            Assert.Equal("application/json", page.Content.Headers.ContentType?.MediaType);
            var json = await page.Content.ReadAsStringAsync();
            Assert.DoesNotContain("<script", json, StringComparison.OrdinalIgnoreCase);
            using var document = JsonDocument.Parse(json);
            messages.AddRange(document.RootElement.GetProperty("logs").EnumerateArray().Select(e => Convert.FromBase64String(e.GetProperty("message").GetString()!)));
            token = document.RootElement.GetProperty("next_token").GetString();
        }
        while (token is not null);

        var joined = messages.SelectMany(m => m).ToArray();
        Assert.True(stored.AsSpan().SequenceEqual(joined), HostileOutputs.Difference(stored, joined));
        HostileOutputs.AssertStoredInWholeLines([.. messages], stored.Length);
    }
}
