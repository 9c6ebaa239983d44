using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Server.Processing;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LogQuota.Server.Tests.Processing;

/// <summary>
/// A runner added at run time (<c>POST /api/runners</c>) is read through its stream, keyed by the identity it reports, and
/// its stream loop stops once it is removed; real runners in this process, real jobs, real SQLite.
/// </summary>
public sealed class RunnersAtRunTimeStreamTests
{
    [Fact]
    public async Task ARunnerAddedAtRunTime_HasItsJobsLinesStoredThroughItsStream_AndItsLoopStopsWhenItIsRemoved()
    {
        await using var seeded = await InProcessRunner.StartAsync();
        await using var added = await InProcessRunner.StartAsync();
        await using var server = new ServerFactory(new Dictionary<string, string>
        {
            ["DSTACK_SERVER_RUNNERS"] = seeded.BaseUrl, ["DSTACK_RUNNER_TOKEN"] = InProcessRunner.Token,
        });
        using var client = server.CreateAdminClient();
        var streams = server.Services.GetServices<IHostedService>().OfType<RunnerStreams>().Single();
        var seededId = Assert.Single((await ListAsync(client)).Runners).RunnerId!;
        await WaitAsync(() => Task.FromResult(streams.Reading.Contains(seededId)), "the seeded runner's stream loop");

        using (var add = await client.PostAsync(new Uri("/api/runners", UriKind.Relative), ApiClient.Json(new { url = added.BaseUrl, name = "added" })))
        {
            Assert.True(add.StatusCode == HttpStatusCode.Created, await add.Content.ReadAsStringAsync());
        }

        var addedId = (await ListAsync(client)).Runners.Single(r => r.Name == "added").RunnerId!;
        Assert.NotEqual(seededId, addedId);
        await WaitAsync(() => Task.FromResult(streams.Reading.Contains(addedId)), "a stream loop for the runner added at run time");

        // Its stream carries its jobs once its first answer is stored; a job assigned before that is pulled on its own
        // until then (as a job on a runner whose stream fails), which is right but not what this test is about.
        var carried = server.Services.GetRequiredService<CarriedStreams>();
        await WaitAsync(() => Task.FromResult(carried.Carries(added.BaseUrl)), "the added runner's first stream answer stored");

        // Only the added runner takes jobs now.
        using (var drain = await client.PostAsync(new Uri($"/api/runners/{Assert.Single((await ListAsync(client)).Runners, r => r.RunnerId == seededId).Name}/drain", UriKind.Relative), null))
        {
            Assert.True(drain.IsSuccessStatusCode, await drain.Content.ReadAsStringAsync());
        }

        await client.SubmitAsync(new SubmitRunRequest(["for n in $(seq 1 300); do echo line$n; done"], RunName: "on-added", Tty: false));
        var run = await client.WaitForEndAsync("on-added");
        Assert.Equal(RunStatus.Done, run.Status);
        Assert.Equal(added.BaseUrl, run.Jobs[0].Runner);
        Assert.Equal(string.Concat(Enumerable.Range(1, 300).Select(n => $"line{n}\n")), Encoding.UTF8.GetString(await client.GetLogsTextAsync("on-added")));

        // Its lines came through the stream: the runner saw stream reads and not one per-job pull; the cursor is stored
        // under the runner's id, not its address.
        var jobId = run.Jobs[0].JobId;
        Assert.Contains("/api/pull", added.Requests);
        Assert.DoesNotContain($"/api/jobs/{jobId}/pull", added.Requests);
        var rows = await server.QueryAsync(db => db.RunnerStreams.Select(r => new { r.RunnerId, r.Cursor }).ToListAsync());
        Assert.NotNull(Assert.Single(rows, r => r.RunnerId == addedId).Cursor);
        Assert.DoesNotContain(rows, r => r.RunnerId.Contains("127.0.0.1", StringComparison.Ordinal));

        // Removed once its job is released: its stream loop stops, the seeded runner's goes on.
        await WaitAsync(async () =>
        {
            using var remove = await client.DeleteAsync(new Uri("/api/runners/added", UriKind.Relative));
            return remove.IsSuccessStatusCode;
        }, "the added runner removed once its job was released");
        await WaitAsync(() => Task.FromResult(!streams.Reading.Contains(addedId)), "the removed runner's stream loop to stop");
        Assert.Contains(seededId, streams.Reading);
    }

    private static async Task<RunnersList> ListAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<RunnersList>(new Uri("/api/runners", UriKind.Relative), LogQuotaJson.Options))!;

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for {what}");
            await Task.Delay(100);
        }
    }
}
