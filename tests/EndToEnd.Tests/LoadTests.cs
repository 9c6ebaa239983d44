using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Xunit.Abstractions;

namespace LogQuota.EndToEnd.Tests;

/// <summary>Many jobs at once on one runner: isolation of their logs and quotas, and API reads while logs pour in.</summary>
public sealed class LoadTests(ITestOutputHelper output)
{
    private const int Jobs = 50;

    /// <summary>One job of the mix: what it runs, under which quota, and what must come of it.</summary>
    /// <param name="Marker">Starts every line the job writes; unique, and no marker is a prefix of another.</param>
    /// <param name="Expected">The whole log when the job ends on its own; for a quota kill, the text it would have written.</param>
    /// <param name="ExitStatus">Null for done; the status for a non-zero exit; -1 for a quota kill.</param>
    private sealed record Mix(string Name, string Marker, string Command, long? Quota, bool Tty, string Expected, int? ExitStatus);

    // Over 60 s beside a CPU hog (77.5 s measured in .ci/stress): after a runner and a server start, 50 jobs run at
    // once on the one runner (up to 20,000 lines each, most in a terminal) while a reader reads the API throughout;
    // then every job's log is read back whole and checked.
    [Fact]
    public async Task FiftyConcurrentJobs_MixedQuotasAndOutputs_EachEndsRight_NoJobSeesAnothersBytes_AndReadsNeverFail()
    {
        // Server quota 0: each run's own log_quota_hour (or none) is what the runner enforces.
        await using var system = await SystemProcesses.StartAsync(runners: 1, quota: 0);
        var mix = Enumerable.Range(0, Jobs).Select(Build).ToList();

        var watch = Stopwatch.StartNew();
        await Task.WhenAll(mix.Select(m => system.SubmitAsync(
            new SubmitRunRequest([m.Command], RunName: m.Name, LogQuotaHour: m.Quota, Tty: m.Tty))));

        using var readerStop = new CancellationTokenSource();
        var reads = new ConcurrentBag<(string What, double Milliseconds, int Status)>();
        var reader = Task.Run(() => ReadContinuouslyAsync(system, mix, reads, readerStop.Token));
        var runs = new Dictionary<string, RunDetails>();
        foreach (var m in mix)
        {
            runs[m.Name] = await system.WaitFinishedAsync(m.Name, TimeSpan.FromSeconds(150));
        }

        var ingest = watch.Elapsed;
        await readerStop.CancelAsync();
        await reader;

        foreach (var m in mix)
        {
            var run = runs[m.Name];
            var text = Encoding.UTF8.GetString(await system.LogTextAsync(m.Name));
            var context = $"{m.Name} ({m.Command}, quota {m.Quota?.ToString() ?? "none"}): {run.Status} {run.StatusMessage} {run.Error}\n{text}";
            Assert.True(m.Quota == run.Jobs[0].JobSpec.LogQuotaHour, context);

            // No job's bytes in another's log: every stored line is this job's, and no other marker appears.
            Assert.All(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), line => Assert.StartsWith(m.Marker + " ", line, StringComparison.Ordinal));
            Assert.DoesNotContain(mix.Where(o => o != m), o => text.Contains(o.Marker, StringComparison.Ordinal));

            switch (m.ExitStatus)
            {
                case null:
                    Assert.True(run.Status == RunStatus.Done, context);
                    Assert.Equal("exited (0)", run.StatusMessage);
                    Assert.Equal(m.Expected, text);
                    break;
                case -1:
                    Assert.True(run.Status == RunStatus.Failed, context);
                    Assert.Equal(TerminationReason.LogQuotaExceeded, run.TerminationReason);
                    Assert.Equal(("error", "log quota exceeded"), (run.StatusMessage, run.Error));
                    Assert.Equal($"Job log output exceeded the hourly quota of {m.Quota} bytes", run.TerminationMessage);
                    Assert.InRange(Encoding.UTF8.GetByteCount(text), 1, m.Quota!.Value);
                    // What was stored is the start of what it wrote, cut at a line end.
                    Assert.StartsWith(text, m.Expected, StringComparison.Ordinal);
                    Assert.EndsWith("\n", text, StringComparison.Ordinal);

                    // The whole log has the runner's marker after the job's last line; it is never counted.
                    var whole = Encoding.UTF8.GetString(await system.LogTextAsync(m.Name, "all"));
                    Assert.EndsWith("for this hour reached; the job is being killed\n", whole, StringComparison.Ordinal);
                    Assert.Equal(Encoding.UTF8.GetByteCount(text), run.LogBytesHour);
                    break;
                case { } code:
                    Assert.True(run.Status == RunStatus.Failed, context);
                    Assert.Equal(code, run.ExitStatus);
                    Assert.Equal($"exited ({code})", run.StatusMessage);
                    Assert.Null(run.Error);
                    Assert.Equal(m.Expected, text);
                    break;
            }
        }

        var all = reads.ToList();
        var failed = all.Where(r => r.Status != 200).ToList();
        output.WriteLine($"{Jobs} jobs submitted and finished in {ingest.TotalSeconds:F1} s");
        output.WriteLine($"{all.Count} reads while ingesting; max latency {all.Max(r => r.Milliseconds):F0} ms " +
            $"(runs list {all.Where(r => r.What == "runs").DefaultIfEmpty().Max(r => r.Milliseconds):F0} ms, " +
            $"logs {all.Where(r => r.What == "logs").DefaultIfEmpty().Max(r => r.Milliseconds):F0} ms)");
        Assert.True(all.Count > 0, "the reader never read");
        Assert.True(failed.Count == 0, $"{failed.Count} reads failed: {string.Join(", ", failed.Take(10))}");
    }

    /// <summary>Job <paramref name="i"/> of the mix: eleven kinds of output, each under its own quota.</summary>
    private static Mix Build(int i)
    {
        var marker = $"J{i:D2}{Guid.NewGuid():N}"[..11];
        var name = $"load-{i:D2}";
        string Lines(string what, int count) => string.Concat(Enumerable.Range(1, count).Select(n => $"{marker} {what} {n}\n"));
        return (i % 11) switch
        {
            0 => new(name, marker, $"for n in $(seq 1 40); do echo \"{marker} plain $n\"; sleep 0.05; done",
                null, true, Lines("plain", 40), null),
            1 => new(name, marker, $"for p in $(seq 0 10 100); do printf '\\r{marker} progress %d%%' $p; sleep 0.05; done; printf '\\n'; echo \"{marker} after\"",
                102400, true, $"{marker} progress 100%\n{marker} after\n", null),
            2 => new(name, marker, $"for n in $(seq 1 20); do printf '\\033[1;32m{marker} green %d\\033[0m\\n' $n; sleep 0.02; done",
                1024, true, Lines("green", 20), null),
            3 => new(name, marker, $"for n in $(seq 1 20); do echo \"{marker} out $n\"; echo \"{marker} err $n\" >&2; sleep 0.02; done",
                null, true, string.Concat(Enumerable.Range(1, 20).Select(n => $"{marker} out {n}\n{marker} err {n}\n")), null),
            4 => new(name, marker, $"echo \"{marker} bye\"; sleep 1; exit {1 + (i % 5)}",
                1024, true, $"{marker} bye\n", 1 + (i % 5)),
            5 => new(name, marker, "sleep 1", 5242880, true, string.Empty, null),
            6 => new(name, marker, $"seq -f '{marker} chatty %g' 1 1000; sleep 30",
                1024, true, Lines("chatty", 1000), -1),
            7 => new(name, marker, $"seq -f '{marker} chatty %g' 1 20000; sleep 30",
                102400, true, Lines("chatty", 20000), -1),
            8 => new(name, marker, $"seq -f '{marker} big %g' 1 4000",
                5242880, true, Lines("big", 4000), null),
            9 => new(name, marker, $"for n in $(seq 1 20); do echo \"{marker} pipe $n\"; echo \"{marker} pipe-err $n\" >&2; done",
                null, false, string.Concat(Enumerable.Range(1, 20).Select(n => $"{marker} pipe {n}\n{marker} pipe-err {n}\n")), null),
            _ => new(name, marker, $"echo \"{marker} quiet\"; exit {1 + (i % 3)}",
                5242880, false, $"{marker} quiet\n", 1 + (i % 3)),
        };
    }

    /// <summary>Lists runs and reads a random run's logs back to back until told to stop, timing every answer.</summary>
    private static async Task ReadContinuouslyAsync(SystemProcesses system, List<Mix> mix,
        ConcurrentBag<(string What, double Milliseconds, int Status)> reads, CancellationToken stop)
    {
        var random = new Random(8);
        while (!stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            using (var runs = await system.Server.GetAsync("/api/runs", CancellationToken.None))
            {
                _ = await runs.Content.ReadAsStringAsync(CancellationToken.None);
                reads.Add(("runs", watch.Elapsed.TotalMilliseconds, (int)runs.StatusCode));
            }

            var name = mix[random.Next(mix.Count)].Name;
            watch.Restart();
            using (var logs = await system.Server.GetAsync($"/api/runs/{name}/logs?limit=200", CancellationToken.None))
            {
                if (logs.IsSuccessStatusCode)
                {
                    _ = await logs.Content.ReadFromJsonAsync<LogsResponse>(LogQuotaJson.Options, CancellationToken.None);
                }

                reads.Add(("logs", watch.Elapsed.TotalMilliseconds, (int)logs.StatusCode));
            }

            // A person refreshing a dashboard, not a benchmark: leave the two cores to the jobs and the ingestion.
            await Task.Delay(20, CancellationToken.None);
        }
    }
}
