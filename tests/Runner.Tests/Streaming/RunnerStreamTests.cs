using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Runner.Tests.Streaming;

/// <summary>
/// <c>GET /api/pull?after=CURSOR&amp;wait=S</c> on a real runner with real jobs: every job's events once, from the last
/// acknowledged cursor, bounded answers, a long poll that answers when a job writes, and cursors of an earlier process.
/// </summary>
public sealed class RunnerStreamTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    [Fact]
    public async Task Stream_AnswersEveryJobsEvents_ExactlyOnce_InOrder()
    {
        var jobs = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            jobs.Add(await SubmitAsync($"for i in $(seq 1 40); do echo job{i}-line$i; sleep 0.0$((i % 3)); done"));
        }

        var seen = await ReadUntilEndedAsync(jobs);

        for (var i = 0; i < jobs.Count; i++)
        {
            var text = seen.Text(jobs[i]);
            Assert.Equal(string.Concat(Enumerable.Range(1, 40).Select(n => $"job{i}-line{n}\n")), text);
            Assert.Equal([JobState.Running, JobState.Done], seen.States[jobs[i]].Select(s => s.State));
        }
    }

    [Fact]
    public async Task Stream_AnswersTheSameEventsAgain_WhenAnAnswerWasNotAcknowledged()
    {
        var start = await PullAsync(null, 0);
        var acknowledged = (await PullAsync(start.Cursor, 0)).Cursor;
        var job = await SubmitAsync("for i in $(seq 1 30); do echo line$i; done");
        await _runner.PullToEndAsync(job);

        var answer = await PullAsync(acknowledged, 0);

        // Asked again after the same cursor (the caller's commit failed): the same events, not the ones after them.
        var again = await PullAsync(acknowledged, 0);
        var expected = string.Concat(Enumerable.Range(1, 30).Select(n => $"line{n}\n"));
        Assert.Equal(expected, Text(answer, job));
        Assert.Equal(expected, Text(again, job));
        Assert.NotEqual(answer.Cursor, again.Cursor);

        // Acknowledged (asked after it), nothing is answered twice.
        var after = await PullAsync(again.Cursor, 0);
        Assert.Empty(after.Jobs.SelectMany(j => j.Page.JobLogs));
        Assert.Empty(after.Jobs.SelectMany(j => j.Page.JobStates));
    }

    [Fact]
    public async Task LongPoll_AnswersWhenAJobWrites_NotAfterTheWait()
    {
        var start = await PullAsync(null, 0);
        var caughtUp = await PullAsync(start.Cursor, 0);
        var waiting = PullAsync(caughtUp.Cursor, 50);
        var job = await SubmitAsync("sleep 0.5; echo woke");

        var answer = await waiting;

        // An answer with the job in it came before the 50 s wait ran out: the long poll answered the change.
        Assert.Contains(answer.Jobs, j => j.JobId == job);
        await ReadUntilEndedAsync([job], answer.Cursor);
    }

    [Fact]
    public async Task Answers_AreBounded_AndHasMoreUntilEverythingIsAnswered()
    {
        // About 12 MiB in lines of 1,000 bytes: three answers at least.
        var job = await SubmitAsync("yes $(head -c 999 /dev/zero | tr '\\0' a) | head -n 12000");
        await _runner.PullToEndAsync(job);
        var seen = await ReadUntilEndedAsync([job]);

        Assert.Equal(12000, seen.Text(job).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.All(seen.AnswerBytes, b => Assert.True(b <= LogQuota.Runner.Streaming.RunnerStream.MaxAnswerLogBytes + 64 * 1024, $"an answer carried {b} bytes"));
        Assert.Contains(true, seen.HasMore);
    }

    [Fact]
    public async Task ACursorOfAnEarlierRunnerProcess_StartsAfresh_NamingTheJobsHeld()
    {
        var job = await SubmitAsync("sleep 60");
        var start = await PullAsync(null, 0);

        var foreign = await PullAsync("0123456789ab:7", 0);

        Assert.Equal([job], foreign.Held);
        Assert.NotEqual("0123456789ab", start.Cursor.Split(':')[0]);
        await _runner.Api.StopAsync(job, new StopBody(), CancellationToken.None);
        await _runner.PullToEndAsync(job);
    }

    [Theory]
    [InlineData("after=nonsense")]
    [InlineData("after=abc:-1")]
    [InlineData("wait=-1")]
    [InlineData("wait=61")]
    [InlineData("wait=soon")]
    [InlineData("timestamp=0")]
    public async Task BadQueries_AreAnswered400(string query)
    {
        using var response = await _runner.Http.GetAsync($"/api/pull?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task TheStream_NeedsTheToken()
    {
        using var anonymous = new HttpClient { BaseAddress = _runner.BaseUri };
        using var response = await anonymous.GetAsync("/api/pull");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private async Task<Guid> SubmitAsync(string command)
    {
        var id = Guid.NewGuid();
        await _runner.Api.SubmitAsync(new SubmitBody(id, new RunRef(Guid.NewGuid(), "stream-test"), new JobSpec([command]) { Tty = false }), CancellationToken.None);
        return id;
    }

    private async Task<StreamResponse> PullAsync(string? after, int wait)
    {
        var query = after is null ? $"/api/pull?wait={wait}" : $"/api/pull?wait={wait}&after={Uri.EscapeDataString(after)}";
        using var response = await _runner.Http.GetAsync(query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<StreamResponse>(LogQuotaJson.Options))!;
    }

    /// <summary>Reads the stream as the server does (each answer acknowledged by asking after it) until every job ended.</summary>
    private async Task<Seen> ReadUntilEndedAsync(IReadOnlyList<Guid> jobs, string? cursor = null)
    {
        var seen = new Seen();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!jobs.All(j => seen.States.TryGetValue(j, out var states) && states.Exists(s => s.State.IsFinal())))
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for jobs {string.Join(", ", jobs)} to end in the stream");
            var answer = await PullAsync(cursor, 5);
            seen.Add(answer);
            cursor = answer.Cursor;
        }

        return seen;
    }

    private static string Text(StreamResponse answer, Guid job) =>
        Encoding.UTF8.GetString(answer.Jobs.Where(j => j.JobId == job).SelectMany(j => j.Page.JobLogs).SelectMany(l => l.Message).ToArray());

    private sealed class Seen
    {
        public Dictionary<Guid, List<JobStateEvent>> States { get; } = [];

        public Dictionary<Guid, List<LogEvent>> Logs { get; } = [];

        public List<long> AnswerBytes { get; } = [];

        public List<bool> HasMore { get; } = [];

        public void Add(StreamResponse answer)
        {
            AnswerBytes.Add(answer.Jobs.SelectMany(j => j.Page.JobLogs).Sum(l => (long)l.Message.Length));
            HasMore.Add(answer.HasMore);
            foreach (var page in answer.Jobs)
            {
                var logs = Logs.TryGetValue(page.JobId, out var l) ? l : Logs[page.JobId] = [];
                var states = States.TryGetValue(page.JobId, out var s) ? s : States[page.JobId] = [];

                // Strictly increasing timestamps per job: a repeated or reordered event fails here.
                Assert.All(page.Page.JobLogs, e => Assert.True(logs.Count == 0 || e.Timestamp > logs[^1].Timestamp, "a log event came twice or out of order"));
                logs.AddRange(page.Page.JobLogs);
                states.AddRange(page.Page.JobStates);
            }
        }

        public string Text(Guid job) => Encoding.UTF8.GetString(Logs.GetValueOrDefault(job, []).SelectMany(l => l.Message).ToArray());
    }
}
