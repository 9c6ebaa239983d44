using System.Net;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.EndToEnd.Tests.Replicas;

/// <summary>
/// SPEC §6, replicas: several server processes on one PostgreSQL database, killed at any moment, lose and repeat no
/// log line, end every job, never process one job from two replicas at once, migrate once, and keep run names unique.
/// </summary>
public sealed class ReplicaTests : IDisposable
{
    private const int Jobs = 20;
    private const int Lines = 2000;

    private readonly PostgresTestDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [SkippableFact]
    public async Task ReplicasKilledMidPull_StoreEveryLineOnce_EndEveryJob_AndNeverShareAJob()
    {
        await using var cluster = await ReplicaCluster.StartAsync(_database.Url, replicas: 2, runners: 2);

        // Numbered lines in bursts, for about 8 s per job: long enough that every kill lands while pulls are going on.
        var script = $"for i in $(seq 1 {Lines}); do echo \"line-$i\"; if [ $((i % 100)) -eq 0 ]; then sleep 0.4; fi; done";
        for (var i = 0; i < Jobs; i++)
        {
            using var response = await cluster.Client(i % 2).PostAsJsonAsync(
                "/api/runs", new SubmitRunRequest([script], RunName: $"numbered-{i}", Tty: false), LogQuotaJson.Options);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }

        // SIGKILL each replica in turn while the jobs log, and start it again: its leases must run out and its jobs
        // be taken over by the other one, with the pages it was storing rolled back.
        for (var round = 0; round < 4; round++)
        {
            await Task.Delay(TimeSpan.FromSeconds(1.5));
            await cluster.KillReplicaAsync(round % 2);
            await Task.Delay(TimeSpan.FromSeconds(0.5));
            await cluster.RestartReplicaAsync(round % 2);
        }

        var expected = string.Concat(Enumerable.Range(1, Lines).Select(n => $"line-{n}\n"));
        for (var i = 0; i < Jobs; i++)
        {
            var run = await WaitFinishedAsync(cluster, $"numbered-{i}");
            Assert.True(run.Status == RunStatus.Done, $"numbered-{i} ended {run.Status} ({run.Jobs[0].TerminationMessage}); processes said:\n{cluster.Output}");
            var text = Encoding.UTF8.GetString(await cluster.Client(i % 2).GetByteArrayAsync(new Uri($"/api/runs/numbered-{i}/logs?format=text", UriKind.Relative)));
            Assert.True(expected == text, $"numbered-{i}: {Describe(expected, text)}");
        }

        // From the database: every stored event once (a runner timestamp is unique per job), and the leases of each
        // job, in the order they were taken, never overlapping: each new holder took over after the last one expired.
        var duplicates = await _database.QueryAsync("SELECT job_id, timestamp FROM log_events GROUP BY job_id, timestamp HAVING count(*) > 1");
        Assert.Empty(duplicates);
        var leases = await _database.QueryAsync("SELECT job_id, owner, acquired_at, expires_at FROM job_leases ORDER BY job_id, acquired_at, id");
        Assert.NotEmpty(leases);
        var takeovers = 0;
        foreach (var job in leases.GroupBy(l => (Guid)l[0]))
        {
            var held = job.ToList();
            for (var k = 1; k < held.Count; k++)
            {
                if ((string)held[k][1] != (string)held[k - 1][1])
                {
                    takeovers++;
                    Assert.True((long)held[k][2] >= (long)held[k - 1][3],
                        $"job {job.Key}: {held[k][1]} took it at {held[k][2]} while {held[k - 1][1]} held it until {held[k - 1][3]}");
                }
            }
        }

        // The kills did take jobs over (else this test proved nothing about takeovers).
        Assert.True(takeovers > 0, "no job changed replica");
    }

    [SkippableFact]
    public async Task ThreeReplicas_StartingTogether_OnAnEmptyDatabase_MigrateItOnce()
    {
        await using var cluster = await ReplicaCluster.StartAsync(_database.Url, replicas: 3, runners: 1);

        var migrated = cluster.ReplicaOutput.Values.Count(o => o.ToString().Contains("Applied ", StringComparison.Ordinal));
        Assert.True(migrated == 1, $"{migrated} replicas applied migrations:\n{cluster.Output}");
        var history = await _database.QueryAsync("SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\"");
        Assert.NotEmpty(history);
        for (var i = 0; i < 3; i++)
        {
            using var response = await cluster.Client(i).GetAsync(new Uri("/api/runs", UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [SkippableFact]
    public async Task TheSameRunName_SubmittedToTwoReplicasAtOnce_IsCreatedOnce_AndRefusedOnceWith409()
    {
        await using var cluster = await ReplicaCluster.StartAsync(_database.Url, replicas: 2, runners: 1);

        for (var i = 0; i < 10; i++)
        {
            var request = new SubmitRunRequest(["true"], RunName: $"contested-{i}");
            var answers = await Task.WhenAll(Enumerable.Range(0, 2).Select(async r =>
            {
                using var response = await cluster.Client(r).PostAsJsonAsync("/api/runs", request, LogQuotaJson.Options);
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));

            Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Created);
            var refused = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Conflict);
            Assert.Contains($"contested-{i}", refused.Body, StringComparison.Ordinal);
        }

        Assert.Equal(10, (await _database.QueryAsync("SELECT 1 FROM runs")).Count);
    }

    private static async Task<RunDetails> WaitFinishedAsync(ReplicaCluster cluster, string runName)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (true)
        {
            var run = (await cluster.Client(0).GetFromJsonAsync<RunDetails>(new Uri($"/api/runs/{runName}", UriKind.Relative), LogQuotaJson.Options))!;
            if (run.Status is RunStatus.Done or RunStatus.Failed or RunStatus.Terminated)
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runName} still {run.Status}; processes said:\n{cluster.Output}");
            await Task.Delay(200);
        }
    }

    private static string Describe(string expected, string actual)
    {
        var lines = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var repeated = lines.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => g.Key).Take(3);
        var missing = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Except(lines).Take(3);
        return $"{lines.Length} lines stored; repeated: [{string.Join(", ", repeated)}]; missing: [{string.Join(", ", missing)}]";
    }
}
