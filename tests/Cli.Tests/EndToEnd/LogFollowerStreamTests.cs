using System.Net.Http.Json;
using System.Text;
using LogQuota.Cli.Commands;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Logs;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// <c>logs -f</c> and <c>run</c> follow over one event stream, against the real server: however many times the run is
/// stored while it is followed, the CLI makes one streamed request, and no long poll or page read per commit.
/// </summary>
[Collection(LocalServerGroup.Name)]
public sealed class LogFollowerStreamTests(LocalServer server)
{
    [Fact]
    public async Task FollowingARunThatIsStoredManyTimes_TakesOneStream_AndWritesEveryLineOnce()
    {
        // In the temp directory itself: a job under its own uid can see it there (the server's directory is 0700).
        var gate = Path.Combine(Path.GetTempPath(), $"logquota-cli-stream-gate-{Guid.NewGuid():N}");
        using (var admin = server.CreateAdminHttpClient())
        {
            var submit = await admin.PostAsJsonAsync(
                "/api/runs",
                new SubmitRunRequest([$"echo tick-0; until [ -e {gate} ]; do sleep 0.05; done; for i in $(seq 1 20); do echo tick-$i; sleep 0.05; done"], RunName: "cli-stream", Tty: false),
                LogQuotaJson.Options);
            Assert.True(submit.IsSuccessStatusCode, await submit.Content.ReadAsStringAsync());
        }

        var requests = new Requests { InnerHandler = new RequestTimeouts() };
        using var http = new HttpClient(requests) { Timeout = Timeout.InfiniteTimeSpan };
        var api = new ServerConnection(server.Url, server.AdminToken, null).CreateApi(http);
        var output = new CapturingStream();
        using var follower = new LogFollower(api, CommandHost.DefaultProject, "cli-stream", output);
        try
        {
            var following = follower.FollowAsync(TimeProvider.System, CancellationToken.None);

            // The first line is written while the job waits: the follower is on the stream before the rest is stored.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            while (!Text(output).Contains("tick-0\n", StringComparison.Ordinal) || requests.Streams == 0)
            {
                Assert.True(DateTime.UtcNow < deadline && !following.IsCompleted, $"not following on a stream: {Text(output)} ({requests})");
                await Task.Delay(20);
            }

            await File.WriteAllTextAsync(gate, "");
            var run = await following.WaitAsync(TimeSpan.FromSeconds(120));

            Assert.Equal(RunStatus.Done, run.Status);
            Assert.Equal(string.Concat(Enumerable.Range(0, 21).Select(i => $"tick-{i}\n")), Text(output));
            Assert.True(requests.Streams == 1 && requests.LongPolls == 0 && requests.Pages <= 2, requests.ToString());
        }
        finally
        {
            File.Delete(gate);
        }
    }

    private static string Text(CapturingStream output) => Encoding.UTF8.GetString(output.ToArray());

    /// <summary>Counts the CLI's reads of the log by kind.</summary>
    private sealed class Requests : DelegatingHandler
    {
        private int _streams;
        private int _longPolls;
        private int _pages;

        public int Streams => Volatile.Read(ref _streams);

        public int LongPolls => Volatile.Read(ref _longPolls);

        public int Pages => Volatile.Read(ref _pages);

        public override string ToString() => $"{Streams} streams, {LongPolls} long polls, {Pages} page reads";

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/logs", StringComparison.Ordinal))
            {
                if (request.Headers.Accept.Any(a => a.MediaType == "text/event-stream"))
                {
                    Interlocked.Increment(ref _streams);
                }
                else if (request.RequestUri.Query.Contains("follow=true", StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref _longPolls);
                }
                else
                {
                    Interlocked.Increment(ref _pages);
                }
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
