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

    // Over 60 s beside a CPU hog (191 s in .ci/stress on 9915f14): two replicas and two runners start on PostgreSQL, 20
    // jobs of 2,000 lines run through four kill-and-restart rounds (each restart a new process with its migrations
    // check), then every job's log is read back whole and its lease history checked.
    [SkippableTheory]
    [InlineData("job")]
    [InlineData("stream")]
    public async Task ReplicasKilledMidPull_StoreEveryLineOnce_EndEveryJob_AndNeverShareAJob(string pull)
    {
        await using var cluster = await ReplicaCluster.StartAsync(_database.Url, replicas: 2, runners: 2,
            new Dictionary<string, string> { ["DSTACK_SERVER_PULL"] = pull });

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
            var run = await cluster.WaitFinishedAsync($"numbered-{i}");
            Assert.True(run.Status == RunStatus.Done, $"numbered-{i} ended {run.Status} ({run.Jobs[0].TerminationMessage}); processes said:\n{cluster.Output}");
            var text = Encoding.UTF8.GetString(await cluster.Client(i % 2).GetByteArrayAsync(new Uri($"/api/runs/numbered-{i}/logs?format=text", UriKind.Relative)));
            Assert.True(expected == text, $"numbered-{i}: {Describe(expected, text)}");
        }

        // From the database: every stored event once (a runner timestamp is unique per job), and the leases of each
        // job, in the order they were taken, never overlapping: each new holder took over after the last one's replica
        // lease had run out (the takeover closed it at that moment), and a job has at most one open lease.
        var duplicates = await _database.QueryAsync("SELECT job_id, timestamp FROM log_events GROUP BY job_id, timestamp HAVING count(*) > 1");
        Assert.Empty(duplicates);
        var leases = await _database.QueryAsync("SELECT job_id, owner, acquired_at, expires_at FROM job_leases ORDER BY job_id, acquired_at, id");
        Assert.NotEmpty(leases);
        var takeovers = 0;
        foreach (var job in leases.GroupBy(l => (Guid)l[0]))
        {
            var held = job.ToList();
            Assert.True(held.Count(l => l[3] is DBNull) <= 1, $"job {job.Key} has {held.Count(l => l[3] is DBNull)} open leases");
            for (var k = 1; k < held.Count; k++)
            {
                Assert.True(held[k - 1][3] is long, $"job {job.Key}: {held[k][1]} took it at {held[k][2]} while {held[k - 1][1]}'s lease was open");
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

        // Under the stream, the lines came through each runner's one stream, stored with its cursor, read by a replica
        // that holds its lease; under per-job pulls there is no stream.
        var streams = await _database.QueryAsync("SELECT runner_id, cursor, lease_owner FROM runner_streams");
        Assert.Equal(pull == "stream" ? 2 : 0, streams.Count);
        Assert.All(streams, s => Assert.True(s[1] is string && s[2] is string, $"runner {s[0]}: cursor {s[1]}, lease owner {s[2]}"));
    }

    /// <summary>Three replicas cold-start together on an empty database: one migrates; then one run name sent to two
    /// of them at the same instant is created once and refused once with 409, ten times over.</summary>
    // Over 60 s beside a CPU hog (68.6 s measured in .ci/stress): a runner and then three replicas start at once, one
    // applying the empty PostgreSQL database's migrations under its lock while the other two wait for it; the ten
    // contested submits after that are quick.
    [SkippableFact]
    public async Task ThreeReplicas_StartingTogether_MigrateOnce_AndTheSameRunNameAtTwoAtOnce_IsOne201AndOne409()
    {
        await using var cluster = await ReplicaCluster.StartAsync(_database.Url, replicas: 3, runners: 1);

        var migrated = cluster.ReplicaOutput.Values.Count(o => o.ToString().Contains("Applied ", StringComparison.Ordinal));
        Assert.True(migrated == 1, $"{migrated} replicas applied migrations:\n{cluster.Output}");
        Assert.NotEmpty(await _database.QueryAsync("SELECT \"MigrationId\" FROM \"__EFMigrationsHistory\""));

        for (var i = 0; i < 10; i++)
        {
            var request = new SubmitRunRequest(["true"], RunName: $"contested-{i}");
            var answers = await Task.WhenAll(new[] { i % 3, (i + 1) % 3 }.Select(async r =>
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

    /// <summary>
    /// With no DSTACK_SERVER_RUNNERS each replica has its own local runner: a job runs where it was assigned and is
    /// processed there only; when that replica dies, another one ends the job within a lease instead of leaving it
    /// running forever or failing it while its replica lives.
    /// </summary>
    // Over 60 s beside a CPU hog (66.1 s measured in .ci/stress with 2 s leases): two replicas with local runners start
    // together on an empty PostgreSQL database (one migrates; each runner runs its isolation probes), five jobs run, the
    // killed replica's job is ended by the other after its lease, and the replica restarts. The lease is 10 s, not the
    // cluster's 2 s: "one owner per job" holds only while no live replica's lease runs out, and beside the CI stress a
    // replica once went 2 s without renewing, so the other took over one of its jobs.
    [SkippableFact]
    public async Task LocalRunners_AreEachTheirReplicas_AndAKilledReplicasJobIsEndedByAnother()
    {
        await using var cluster = await ReplicaCluster.StartAsync(
            _database.Url, replicas: 2, runners: 0, new() { ["DSTACK_SERVER_RUNNERS"] = "", ["DSTACK_SERVER_JOB_LEASE"] = "10" });

        for (var i = 0; i < 4; i++)
        {
            using var response = await cluster.Client(i % 2).PostAsJsonAsync(
                "/api/runs", new SubmitRunRequest(["sleep 0.5; seq 1 200"], RunName: $"local-{i}", Tty: false), LogQuotaJson.Options);
            Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        }

        var expected = string.Concat(Enumerable.Range(1, 200).Select(n => $"{n}\n"));
        for (var i = 0; i < 4; i++)
        {
            var run = await cluster.WaitFinishedAsync($"local-{i}");
            Assert.True(run.Status == RunStatus.Done, $"local-{i} ended {run.Status} ({run.Jobs[0].TerminationMessage}); processes said:\n{cluster.Output}");
            Assert.Equal(expected, Encoding.UTF8.GetString(await cluster.Client((i + 1) % 2).GetByteArrayAsync(new Uri($"/api/runs/local-{i}/logs?format=text", UriKind.Relative))));
        }

        // Every job stayed on the replica that assigned it to its local runner: one lease owner per job.
        var owners = await _database.QueryAsync("SELECT job_id, count(DISTINCT owner) FROM job_leases GROUP BY job_id");
        Assert.All(owners, o => Assert.Equal(1L, (long)o[1]));

        using (var response = await cluster.Client(0).PostAsJsonAsync(
            "/api/runs", new SubmitRunRequest(["echo started; sleep 6"], RunName: "orphaned", Tty: false), LogQuotaJson.Options))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        string owner;
        while (true)
        {
            var running = await _database.QueryAsync("SELECT lease_owner FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.run_name = 'orphaned' AND j.status = 'Running'");
            if (running.Count == 1)
            {
                owner = (string)running[0][0];
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the job never ran; processes said:\n{cluster.Output}");
            await Task.Delay(100);
        }

        var holder = Enumerable.Range(0, 2).Single(r => owner.Contains($":{cluster.ReplicaPid(r)}:", StringComparison.Ordinal));
        await cluster.KillReplicaAsync(holder);

        var ended = await cluster.WaitFinishedAsync("orphaned", client: 1 - holder);
        Assert.Equal(RunStatus.Failed, ended.Status);
        Assert.Contains("local runner", ended.Jobs[0].TerminationMessage, StringComparison.Ordinal);

        // Its restart sweeps what the killed local runner left on its directory.
        await cluster.RestartReplicaAsync(holder);
    }

    private static string Describe(string expected, string actual)
    {
        var lines = actual.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var repeated = lines.GroupBy(l => l).Where(g => g.Count() > 1).Select(g => g.Key).Take(3);
        var missing = expected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Except(lines).Take(3);
        return $"{lines.Length} lines stored; repeated: [{string.Join(", ", repeated)}]; missing: [{string.Join(", ", missing)}]";
    }
}
