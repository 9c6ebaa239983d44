using System.Diagnostics;
using System.Text;
using LogQuota.Server.Processing;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Processing;

/// <summary>
/// A runner's stream gathers news before it is asked again (<see cref="RunnerStreamReader.Gather"/>): a job that prints
/// all the time costs the server a bounded number of answers, not one per line.
/// </summary>
public sealed class StreamGatherTests
{
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(100);

    [Fact]
    public void AfterAnAnswerWithNews_WhatIsLeftOfTheGatherIsWaited()
    {
        var news = Answer(hasMore: false, jobs: 1);

        Assert.Equal(TimeSpan.FromMilliseconds(70), RunnerStreamReader.GatherFor(news, TimeSpan.FromMilliseconds(30), Gather));
        Assert.Equal(TimeSpan.Zero, RunnerStreamReader.GatherFor(news, TimeSpan.FromMilliseconds(100), Gather));
        Assert.Equal(TimeSpan.Zero, RunnerStreamReader.GatherFor(news, TimeSpan.FromSeconds(3), Gather));
    }

    [Fact]
    public void ABacklog_OrAWaitThatRanOutWithoutNews_IsAskedAgainAtOnce()
    {
        Assert.Equal(TimeSpan.Zero, RunnerStreamReader.GatherFor(Answer(hasMore: true, jobs: 3), TimeSpan.Zero, Gather));
        Assert.Equal(TimeSpan.Zero, RunnerStreamReader.GatherFor(Answer(hasMore: false, jobs: 0), TimeSpan.Zero, Gather));
    }

    [Fact]
    public async Task AJobPrintingAllTheTime_IsReadAtMostOncePerGather_AndEveryLineIsStoredOnce()
    {
        await using var runner = await InProcessRunner.StartAsync();
        await using var server = new ServerFactory(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_RUNNERS"] = runner.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = InProcessRunner.Token,

            // 0.1 s between passes: the gather is 0.1 s.
            ["DSTACK_SERVER_POLL_INTERVAL"] = "0.1",
        });
        using var client = server.CreateAdminClient();

        var pullsBefore = Pulls(runner);
        var clock = Stopwatch.StartNew();
        await client.SubmitAsync(new SubmitRunRequest(["for n in $(seq 1 400); do echo line$n; sleep 0.005; done"], RunName: "chatty", Tty: false));
        var run = await client.WaitForEndAsync("chatty");
        var elapsed = clock.Elapsed;
        var pulls = Pulls(runner) - pullsBefore;

        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Equal(string.Concat(Enumerable.Range(1, 400).Select(n => $"line{n}\n")), Encoding.UTF8.GetString(await client.GetLogsTextAsync("chatty")));

        // Each answer with news is followed by a gather; the others are waits that ran out (at least 1 s each) or a
        // backlog's pages (none here: 400 short lines fit one answer). Without the gather the runner was asked once per
        // line or two: about 200 times or more on an idle machine.
        var bound = (int)(elapsed / Gather) + (int)elapsed.TotalSeconds + 4;
        Assert.True(pulls <= bound, $"the stream was read {pulls} times in {elapsed.TotalSeconds:0.0} s; at most {bound} expected with a {Gather.TotalMilliseconds} ms gather");
    }

    private static int Pulls(InProcessRunner runner) => runner.Requests.Count(r => r.StartsWith("/api/pull", StringComparison.Ordinal));

    private static StreamResponse Answer(bool hasMore, int jobs) =>
        new("1:1", hasMore, [.. Enumerable.Range(0, jobs).Select(_ => new StreamJobPage(Guid.NewGuid(), new PullResponse([], [], 0, HasMore: false, LogBytesHour: 0)))]);
}
