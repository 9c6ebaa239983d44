using System.Net;
using LogQuota.Server.Apis;
using LogQuota.Server.Data;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// JSON log pages are bounded in bytes as well as events (<c>max_bytes</c>, default and most 4 MiB): a page ends before
/// the event that would cross the bound, so a reader sizing its window in bytes (the web page) gets what it asked for
/// whatever the events' sizes, and one request never holds 1,000 reads of 64 KiB. The events are stored directly, with
/// sizes no runner would choose the same way twice, so each page's cut is known exactly.
/// </summary>
public sealed class LogPageBytesTests(LogPageBytesFixture fixture) : IClassFixture<LogPageBytesFixture>
{
    private const string Mixed = LogPageBytesFixture.Mixed;
    private const string Large = LogPageBytesFixture.Large;
    private static readonly int[] MixedSizes = LogPageBytesFixture.MixedSizes;
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData(false, 1000, 1)]
    [InlineData(false, 1000, 6000)]
    [InlineData(true, 1000, 6000)]
    [InlineData(false, 7, 20000)]
    [InlineData(true, 1000, 100)]
    [InlineData(false, 1000, LogsQuery.MaxPageBytes)]
    public async Task Pages_EndBeforeTheEventThatWouldCrossMaxBytes_AndHoldEveryEventOnce(bool descending, int limit, int maxBytes)
    {
        var sizes = descending ? Enumerable.Reverse(MixedSizes).ToList() : [.. MixedSizes];
        var pages = await ReadAllAsync(Mixed, $"limit={limit}&max_bytes={maxBytes}&descending={(descending ? "true" : "false")}");

        var at = 0;
        foreach (var (page, token) in pages)
        {
            var bytes = page.Sum(e => e.Message.Length);
            Assert.InRange(page.Count, 1, limit);
            Assert.Equal(sizes.Skip(at).Take(page.Count), page.Select(e => e.Message.Length));
            Assert.True(page.Count == 1 || bytes <= maxBytes, $"A page of {page.Count} events holds {bytes} bytes, over {maxBytes}.");
            at += page.Count;
            if (token is not null)
            {
                // Full: the next event would have crossed the bound, or the page holds `limit` events.
                Assert.True(page.Count == limit || bytes + sizes[at] > maxBytes, $"A page ended at {bytes} bytes and {page.Count} events, before an event of {sizes[at]}.");
            }
        }

        Assert.Equal(sizes.Count, at);
    }

    [Fact]
    public async Task AllMixedEvents_FitTheDefaultBound_InOnePage_ReadInBatches()
    {
        var page = await _client.GetLogsAsync(Mixed);
        Assert.Null(page.NextToken);
        Assert.Equal(MixedSizes, page.Logs.Select(e => e.Message.Length));
    }

    [Fact]
    public async Task ByDefault_APage_HoldsAtMostFourMiB()
    {
        var first = await _client.GetLogsAsync(Large);
        Assert.Equal(64, first.Logs.Count); // 64 × 64 KiB is 4 MiB exactly; the 65th would cross it
        Assert.NotNull(first.NextToken);
        var rest = await _client.GetLogsAsync(Large, $"?next_token={first.NextToken}");
        Assert.Equal(16, rest.Logs.Count);
        Assert.Null(rest.NextToken);
    }

    [Theory]
    [InlineData("max_bytes=0", "max_bytes must be a whole number of bytes from 1 to 4194304, got '0'.")]
    [InlineData("max_bytes=4194305", "max_bytes must be a whole number of bytes from 1 to 4194304, got '4194305'.")]
    [InlineData("max_bytes=lots", "max_bytes must be a whole number of bytes from 1 to 4194304, got 'lots'.")]
    [InlineData("format=text&max_bytes=100", "format=text streams the whole log in order; limit, max_bytes, next_token and descending apply to JSON pages only.")]
    [InlineData("q=row&max_bytes=100", "q and line read the whole log in order, numbering its lines from 1: they take only regex, match_case, limit and next_token.")]
    public async Task BadMaxBytes_Is400_InTheUsersWords(string query, string detail)
    {
        using var response = await _client.GetAsync(new Uri($"/api/runs/{Mixed}/logs?{query}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(detail, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<List<(List<RunLogEvent> Page, string? Token)>> ReadAllAsync(string run, string query)
    {
        var pages = new List<(List<RunLogEvent>, string?)>();
        string? token = null;
        do
        {
            var page = await _client.GetLogsAsync(run, $"?{query}" + (token is null ? "" : $"&next_token={token}"));
            pages.Add(([.. page.Logs], page.NextToken));
            token = page.NextToken;
            Assert.True(pages.Count <= 1000, "Paging does not end.");
        }
        while (token is not null);

        return pages;
    }
}

/// <summary>The server and the two seeded runs of <see cref="LogPageBytesTests"/>.</summary>
public sealed class LogPageBytesFixture : IAsyncLifetime
{
    public const string Mixed = "mixed";
    public const string Large = "large";

    /// <summary>200 events: every seventh one 5,000 bytes, the others 10 to 100.</summary>
    public static readonly int[] MixedSizes = [.. Enumerable.Range(0, 200).Select(i => i % 7 == 0 ? 5000 : 10 + (i * 37 % 91))];

    public ServerFactory Server { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Server.CreateAdminClient();
        await SeedAsync(Mixed, MixedSizes);
        await SeedAsync(Large, [.. Enumerable.Repeat(64 * 1024, 80)]); // 5 MiB of 64 KiB reads
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>A finished run whose events have the given sizes, one millisecond apart.</summary>
    private Task<Guid> SeedAsync(string name, int[] sizes) =>
        Server.QueryAsync(async db =>
        {
            var at = DateTimeOffset.UtcNow.AddMinutes(-5);
            var run = new RunEntity { Id = Guid.CreateVersion7(at), RunName = name, SubmittedAt = at };
            var job = new JobEntity
            {
                Id = Guid.CreateVersion7(at), Run = run, Status = JobStatus.Done, SubmittedAt = at, FinishedAt = at.AddMinutes(1),
                Spec = new JobSpec(["true"], null, null, null, null), RunnerReleased = true,
            };
            run.Jobs.Add(job);
            db.Runs.Add(run);
            for (var i = 0; i < sizes.Length; i++)
            {
                var message = new byte[sizes[i]];
                Array.Fill(message, (byte)('a' + (i % 26)));
                message[^1] = (byte)'\n';
                db.LogEvents.Add(new LogEventEntity { JobId = job.Id, Timestamp = at.ToUnixTimeMilliseconds() + i, Message = message });
            }

            await db.SaveChangesAsync();
            return job.Id;
        });
}
