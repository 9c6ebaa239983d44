using System.Diagnostics;
using System.Text.Json;
using LogQuota.EndToEnd.Tests.Compose;
using LogQuota.Shared.Contracts;
using Xunit.Abstractions;
using static LogQuota.EndToEnd.Tests.Compose.ComposeRuns;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// The optional profiles of <c>docker-compose.yml</c>, brought up together by <c>docker compose</c> (plus
/// <c>Compose/compose.test.yml</c>: free loopback ports, a 6 s job lease) under a project name and image tags of its own:
/// <c>postgres</c> (PostgreSQL, two server replicas behind nginx, sharing the runners) keeps every line of jobs that
/// write while the replica holding their leases is SIGKILLed, read back through the balancer; <c>monitoring</c>
/// (Prometheus) has every target of its configuration up. Needs a Docker engine with API 1.44+, Compose v2.24+ and
/// the profiles' images on the engine (it pulls nothing); else it is skipped with the reason. Every wait has a deadline.
/// </summary>
public sealed class DockerComposeProfilesTests(ITestOutputHelper log)
{
    private const int Jobs = 4;

    /// <summary>Where a job looks for the test's word to stop (the runner container's /tmp, which every job uid sees).</summary>
    private const string StopFile = "/tmp/logquota-profiles-test-stop";

    /// <summary>The most lines a job writes if never told to stop (minutes of writing): it then fails, exit 3.</summary>
    private const int LineCap = 200_000;

    /// <summary>The third-party images of the two profiles, as docker-compose.yml names them.</summary>
    private static readonly string[] ProfileImages = ["postgres:16", "nginx:1.27-alpine", "prom/prometheus:v2.53.4"];

    private static readonly string[] Replicas = ["server-pg-1", "server-pg-2"];

    /// <summary>What deploy/prometheus/prometheus.yml scrapes.</summary>
    private static readonly string[] PrometheusTargets = ["runner-1:10999", "runner-2:10999", "server:3000"];

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    // Over 60 s: it builds the product's images (seconds with a warm build cache) and brings up eight containers
    // (five .NET services, PostgreSQL's first start and the replicas' migrations are most of it), then waits for a
    // takeover after one 6 s lease. Both profiles share one bring-up, so this is paid once.
    [SkippableFact]
    public async Task PostgresAndMonitoringProfiles_KeepEveryLineThroughAReplicaKill_AndScrapeEveryTarget()
    {
        var whyNot = await ComposeProject.WhyUnavailableAsync(ProfileImages);
        Skip.If(whyNot is not null, whyNot);

        await ComposeProject.RunAsync(log, ["postgres", "monitoring"], TimeSpan.FromMinutes(15), async (stack, ct) =>
        {
            await StepAsync(log, "postgres profile: a replica SIGKILLed while jobs write", () => ReplicaKilledWhileJobsWrite(stack, ct));
            await StepAsync(log, "monitoring profile: every target up", () => EveryTargetUp(stack, ct));
        });
    }

    /// <summary>
    /// Jobs writing numbered lines, submitted through nginx, until the test tells them to stop; the replica holding the
    /// most of their leases (and the runners' stream leases) SIGKILLed while they write; once the other replica has
    /// taken its leases over and stored more lines, the jobs are told to stop, end <c>done</c>, and have every line
    /// once, in order, read through nginx.
    /// </summary>
    private async Task ReplicaKilledWhileJobsWrite(ComposeProject stack, CancellationToken ct)
    {
        using var balancer = ComposeProject.ClientOf(await stack.PublishedAsync("balancer", 3000, ct));
        // The end comes from the test (a file in the runner container's /tmp), not from a count: how many lines a job
        // writes before the kill and the takeover depends on the machine's load. The cap only ends a job never told.
        var script = $"i=0; while [ ! -e {StopFile} ]; do i=$((i+1)); echo \"line-$i\"; if [ $i -ge {LineCap} ]; then exit 3; fi; " +
                     "if [ $((i % 10)) -eq 0 ]; then sleep 0.1; fi; done; echo \"last $i\"";
        for (var i = 0; i < Jobs; i++)
        {
            await Submit(balancer, new SubmitRunRequest([script], RunName: $"numbered-{i}", Tty: false), ct);
        }

        for (var i = 0; i < Jobs; i++)
        {
            await WaitFor(balancer, $"numbered-{i}", r => r.Status == RunStatus.Running && r.LogBytesHour > 0, ct);
        }

        var hosts = new Dictionary<string, (string Service, string Id)>();
        foreach (var replica in Replicas)
        {
            var id = await stack.ContainerIdAsync(replica, ct);
            var hostname = await Command.RunAsync("docker", ["inspect", "--format", "{{.Config.Hostname}}", id], TimeSpan.FromSeconds(60), ct: ct);
            hosts[hostname.EnsureSuccess().Stdout.Trim()] = (replica, id);
        }

        var held = await LeasesAsync(stack, ct);
        var victimOwner = held.GroupBy(l => l.Owner).OrderByDescending(g => g.Count()).First().Key;
        var victim = hosts[victimOwner.Split(':')[0]];
        log.WriteLine($"leases before the kill: {string.Join(", ", held.Select(l => $"{l.Kind} {l.Key} by {l.Owner}"))}; killing {victim.Service}");

        var sinceKill = Stopwatch.StartNew();
        (await Command.RunAsync("docker", ["kill", "-s", "KILL", victim.Id], TimeSpan.FromSeconds(60), ct: ct)).EnsureSuccess();

        // Taken over: each lease the dead replica held (of a job still running) is another replica's. Then the jobs
        // store more lines than they had then, so lines written across the kill and after the takeover are all checked.
        var taken = await TakenOverAsync(stack, held.Where(l => l.Owner == victimOwner).ToList(), victimOwner, ct);
        log.WriteLine($"{victim.Service}'s leases taken over {sinceKill.Elapsed.TotalSeconds:0.0} s after the kill: {string.Join(", ", taken.Select(l => $"{l.Kind} {l.Key} by {l.Owner}"))}");
        for (var i = 0; i < Jobs; i++)
        {
            var bytes = (await Details(balancer, $"numbered-{i}", ct)).LogBytesHour;
            await WaitFor(balancer, $"numbered-{i}", r => r.LogBytesHour > bytes, ct);
        }

        foreach (var runner in new[] { "runner-1", "runner-2" })
        {
            await stack.ComposeAsync(TimeSpan.FromSeconds(60), ct, "exec", "-T", runner, "touch", StopFile);
        }

        for (var i = 0; i < Jobs; i++)
        {
            var run = await WaitFinished(balancer, $"numbered-{i}", ct);
            var text = await LogText(balancer, $"numbered-{i}", ct);
            Assert.True(run.Status == RunStatus.Done, $"numbered-{i} ended {run.Status} ({run.StatusMessage}, {run.Error}); its log ends: {text[Math.Max(0, text.Length - 200)..]}");
            var last = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
            Assert.StartsWith("last ", last, StringComparison.Ordinal);
            var count = int.Parse(last["last ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            var expected = string.Concat(Enumerable.Range(1, count).Select(n => $"line-{n}\n")) + $"last {count}\n";
            Assert.True(expected == text, $"numbered-{i}: {Describe(expected, text)}");
            log.WriteLine($"numbered-{i}: {count} lines, each stored once, in order");
        }

        var state = await Command.RunAsync("docker", ["inspect", "--format", "{{.State.Status}} restarts={{.RestartCount}}", victim.Id], TimeSpan.FromSeconds(60), ct: ct);
        log.WriteLine($"{victim.Service} after the test: {state.EnsureSuccess().Stdout.Trim()}");
    }

    /// <summary>
    /// Waits until none of <paramref name="leases"/> is held by <paramref name="deadOwner"/> any more: each job's lease
    /// (unless the job ended) and each stream's lease has another holder. Answers the new holders.
    /// </summary>
    private static async Task<IReadOnlyList<Lease>> TakenOverAsync(ComposeProject stack, IReadOnlyList<Lease> leases, string deadOwner, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            var now = await LeasesAsync(stack, ct);
            var jobsLeft = await QueryAsync(stack, "SELECT j.id::text FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.run_name LIKE 'numbered-%' AND j.finished_at IS NULL", ct);
            var running = jobsLeft.Select(r => r[0]).ToHashSet(StringComparer.Ordinal);
            var pending = leases
                .Where(l => l.Kind == "stream" || running.Contains(l.Key))
                .Where(l => now.FirstOrDefault(n => n.Kind == l.Kind && n.Key == l.Key) is not { } holder || holder.Owner == deadOwner)
                .ToList();
            if (pending.Count == 0)
            {
                return [.. now.Where(n => leases.Any(l => l.Kind == n.Kind && l.Key == n.Key))];
            }

            Assert.True(DateTime.UtcNow < deadline,
                $"within {Deadline.TotalSeconds:0} s of the kill, no other replica took over: {string.Join(", ", pending.Select(l => $"{l.Kind} {l.Key}"))}");
            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }
    }

    /// <summary>Prometheus's active targets, asked until each has been scraped and is <c>up</c> (the first scrape comes within 15 s).</summary>
    private async Task EveryTargetUp(ComposeProject stack, CancellationToken ct)
    {
        using var prometheus = new HttpClient { BaseAddress = await stack.PublishedAsync("prometheus", 9090, ct), Timeout = TimeSpan.FromSeconds(30) };
        var deadline = DateTime.UtcNow + Deadline;
        var seen = "nothing yet";
        while (true)
        {
            try
            {
                using var targets = JsonDocument.Parse(await prometheus.GetStringAsync(new Uri("/api/v1/targets?state=active", UriKind.Relative), ct));
                var active = targets.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray()
                    .Select(t => (Instance: t.GetProperty("labels").GetProperty("instance").GetString()!, Health: t.GetProperty("health").GetString()!, Error: t.GetProperty("lastError").GetString()))
                    .OrderBy(t => t.Instance, StringComparer.Ordinal)
                    .ToList();
                seen = string.Join("; ", active.Select(t => $"{t.Instance} {t.Health} {t.Error}"));
                if (active.Count > 0 && active.All(t => t.Health == "up"))
                {
                    Assert.Equal(PrometheusTargets, active.Select(t => t.Instance));
                    log.WriteLine($"Prometheus targets: {seen}");
                    return;
                }
            }
            catch (HttpRequestException e)
            {
                seen = $"GET /api/v1/targets failed: {e.Message}";
            }

            Assert.True(DateTime.UtcNow < deadline, $"Prometheus's targets were not all up within {Deadline.TotalSeconds:0} s: {seen}");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }
    }

    private sealed record Lease(string Kind, string Key, string Owner);

    /// <summary>The leases held now of the test's jobs and of the runners' streams, from the database; waits until there is one.</summary>
    private static async Task<IReadOnlyList<Lease>> LeasesAsync(ComposeProject stack, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            // Two queries: psql prints only the last result of a -c with several.
            var rows = (await QueryAsync(stack, "SELECT 'job', j.id::text, j.lease_owner FROM jobs j JOIN runs r ON r.id = j.run_id WHERE r.run_name LIKE 'numbered-%' AND j.lease_owner IS NOT NULL", ct))
                .Concat(await QueryAsync(stack, "SELECT 'stream', runner_id, lease_owner FROM runner_streams WHERE lease_owner IS NOT NULL", ct))
                .ToList();
            if (rows.Count > 0)
            {
                return [.. rows.Select(r => new Lease(r[0], r[1], r[2]))];
            }

            Assert.True(DateTime.UtcNow < deadline, $"no replica held a lease of the jobs or of a runner's stream within {Deadline.TotalSeconds:0} s");
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        }
    }

    /// <summary>Rows of <paramref name="sql"/> run by <c>psql</c> inside the <c>postgres</c> container, tab-separated.</summary>
    private static async Task<string[][]> QueryAsync(ComposeProject stack, string sql, CancellationToken ct)
    {
        var result = await stack.ComposeAsync(TimeSpan.FromSeconds(60), ct,
            "exec", "-T", "postgres", "psql", "-U", "logquota", "-d", "logquota", "-v", "ON_ERROR_STOP=1", "-At", "-F", "\t", "-c", sql);
        return [.. result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('\t'))];
    }

    private static string Describe(string expected, string actual)
    {
        var want = expected.Split('\n');
        var got = actual.Split('\n');
        var first = Enumerable.Range(0, Math.Min(want.Length, got.Length)).FirstOrDefault(k => want[k] != got[k], -1);
        return first < 0
            ? $"{got.Length - 1} lines stored, {want.Length - 1} written"
            : $"line {first + 1} is '{got[first]}', expected '{want[first]}' ({got.Length - 1} lines stored, {want.Length - 1} written)";
    }
}
