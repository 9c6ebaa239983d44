using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Server.Logs;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Server.Tests.Logs;

/// <summary>
/// Followers are pushed to: <c>follow=true</c> answers when something of the run is stored, and a hundred followers of one
/// run are answered from one read per commit, not a read (or a poll) each.
/// </summary>
public sealed class LogFollowTests
{
    private sealed record Page(int Events);

    [Fact]
    public async Task HundredFollowers_AreAnsweredByOneNotification_FromOneSharedRead()
    {
        var feed = new LogFeed();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var run = Guid.NewGuid();
        var stored = 0;
        var reads = 0;
        Task<Page> Read()
        {
            Interlocked.Increment(ref reads);
            return Task.FromResult(new Page(Volatile.Read(ref stored)));
        }

        var followers = Enumerable.Range(0, 100)
            .Select(_ => LogFollow.WaitAsync(feed, run, "same-place", Read, p => p.Events > 0, TimeSpan.FromSeconds(25), time, CancellationToken.None))
            .ToList();

        // Caught up at the same place, they shared one read on arrival, found nothing, and wait.
        Assert.Equal(1, reads);
        Assert.All(followers, f => Assert.False(f.IsCompleted));

        Volatile.Write(ref stored, 3);
        feed.Stored(run);
        var pages = await Task.WhenAll(followers).WaitAsync(TimeSpan.FromSeconds(90));

        Assert.All(pages, p => Assert.Equal(3, p.Events));
        Assert.Equal(2, reads);
    }

    [Fact]
    public async Task AFollower_WithoutNotification_ReadsAgainOncePerRecheck_AndAnswersEmptyAfterItsWait()
    {
        var feed = new LogFeed();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var reads = 0;
        var follower = LogFollow.WaitAsync(
            feed, Guid.NewGuid(), "k", () => Task.FromResult(new Page(Interlocked.Increment(ref reads) * 0)), p => p.Events > 0, TimeSpan.FromSeconds(3), time, CancellationToken.None);

        for (var second = 1; second <= 3; second++)
        {
            Assert.False(follower.IsCompleted);
            await Eventually.TrueAsync(() => Volatile.Read(ref reads) == second, $"read {second}");
            time.Advance(LogFeed.RecheckInterval);
        }

        Assert.Equal(0, (await follower.WaitAsync(TimeSpan.FromSeconds(90))).Events);
        Assert.Equal(4, reads);
    }

    [Fact]
    public async Task FollowTrue_AnswersWhenTheNextLineIsStored_AndAtOnceOnceTheRunHasEnded()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();
        // In the temp directory itself: a job under its own uid can see it there (the server's directory is 0700).
        var gate = Path.Combine(Path.GetTempPath(), $"logquota-follow-gate-{Guid.NewGuid():N}");
        await client.SubmitAsync(new SubmitRunRequest([$"echo first; while [ ! -e {gate} ]; do sleep 0.05; done; echo second"], RunName: "followed"));
        var first = await WaitForLinesAsync(client, "followed", 1);

        // Asked before the line exists, answered with it: the request waits (up to 60 s) rather than answering empty.
        var after = Uri.EscapeDataString(first.Logs[^1].Timestamp.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var follow = client.GetAsync(new Uri($"/api/runs/followed/logs?follow=true&wait=60&start_time={after}", UriKind.Relative));
        await File.WriteAllTextAsync(gate, "");
        using var answer = await follow.WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var page = (await answer.Content.ReadFromJsonAsync<LogsResponse>(LogQuotaJson.Options))!;
        var text = Encoding.UTF8.GetString([.. page.Logs.SelectMany(l => l.Message)]);
        Assert.Contains("second", text, StringComparison.Ordinal);
        Assert.DoesNotContain("first", text, StringComparison.Ordinal);

        // Ended, with nothing after the last line: answered at once, empty, however long it was told to wait.
        await client.WaitForEndAsync("followed");
        var all = await client.GetLogsAsync("followed");
        var last = Uri.EscapeDataString(all.Logs[^1].Timestamp.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
        var ended = await client.GetLogsAsync("followed", $"?follow=true&wait=60&start_time={last}");
        Assert.Empty(ended.Logs);
        File.Delete(gate);
    }

    [Theory]
    [InlineData("?follow=yes", "follow must be true or false")]
    [InlineData("?follow=true&wait=61", "wait must be a number of seconds from 0 to 60")]
    [InlineData("?follow=true&wait=-1", "wait must be a number of seconds")]
    [InlineData("?wait=5", "wait applies only with follow=true")]
    [InlineData("?follow=true&format=text", "cannot be combined with format=text or descending")]
    [InlineData("?follow=true&descending=true", "cannot be combined with format=text or descending")]
    public async Task FollowParameters_AreChecked_WithA400InTheUsersWords(string query, string says)
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" });
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["true"], RunName: "checked"));
        using var response = await client.GetAsync(new Uri($"/api/runs/checked/logs{query}", UriKind.Relative));
        Assert.Contains(says, await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest), StringComparison.Ordinal);
    }

    private static async Task<LogsResponse> WaitForLinesAsync(HttpClient client, string runName, int lines)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            var logs = await client.GetLogsAsync(runName, "?source=job");
            if (Encoding.UTF8.GetString([.. logs.Logs.SelectMany(l => l.Message)]).Count(c => c == '\n') >= lines)
            {
                return logs;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runName} never logged {lines} lines");
            await Task.Delay(50);
        }
    }
}
