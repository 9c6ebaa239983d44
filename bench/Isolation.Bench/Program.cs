using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;
using LogQuota.Shared.Contracts;

// Usage (root, for every mode): dotnet run -c Release --project bench/Isolation.Bench -- [--quick] [--json PATH]
// Per isolation mode: job start-up (spawn to the job's first output byte, median of 20) against today's direct
// spawn of /bin/sh, and kill latency (KillTree on a job with a background child, a setsid child and a double
// fork: from the call to the moment every process is gone) p50/p99 over 25 kills.
var quick = args.Contains("--quick");
var jsonAt = Array.IndexOf(args, "--json");
var jsonPath = jsonAt >= 0 && jsonAt + 1 < args.Length ? Path.GetFullPath(args[jsonAt + 1]) : null;
var starts = quick ? 10 : 20;
var kills = quick ? 20 : 25;

var dir = Directory.CreateTempSubdirectory("logquota-isolation-bench-").FullName;
var figures = new List<Dictionary<string, object?>>();
try
{
    var baseline = Median(Enumerable.Range(0, starts).Select(_ => StartMs(JobSandbox.Unconfined)).ToList());
    Report("start-up, today's spawn of /bin/sh (median ms)", baseline, null, null);
    foreach (var mode in new[] { IsolationKill.ProcessScan, IsolationKill.PidNamespace, IsolationKill.Cgroup })
    {
        using var isolation = RunnerIsolation.Probe(new RunnerSettings { Dir = dir, KillModeLimit = mode });
        if (isolation.Info.Kill != mode)
        {
            Console.WriteLine($"{mode}: not available here ({isolation.Description})");
            continue;
        }

        var name = JsonNamingPolicy.SnakeCaseLower.ConvertName(mode.ToString());
        var users = JsonNamingPolicy.SnakeCaseLower.ConvertName(isolation.Info.Users.ToString());
        var start = Median(Enumerable.Range(0, starts).Select(_ => StartMs(isolation.CreateSandbox(Guid.NewGuid()))).ToList());
        Report($"start-up, {name} + {users} uids (median ms)", start, baseline, null);
        var latencies = Enumerable.Range(0, kills).Select(_ => KillMs(isolation.CreateSandbox(Guid.NewGuid()))).Order().ToList();
        Report($"kill latency, {name} p50 (ms)", Percentile(latencies, 0.50), null, null);
        var p99 = Percentile(latencies, 0.99);
        Report($"kill latency, {name} p99 over {kills} kills (ms)", p99, null, p99 <= 50);
    }
}
finally
{
    Directory.Delete(dir, recursive: true);
}

if (jsonPath is not null)
{
    File.WriteAllText(jsonPath, JsonSerializer.Serialize(new { figures }));
}

return 0;

// A start-up figure has today's spawn as its baseline; a kill-latency p99 has the 50 ms goal (met or not).
void Report(string figure, double value, double? baseline, bool? met)
{
    double? ratio = baseline is { } b ? value / b : null;
    Console.WriteLine(ratio is { } r
        ? string.Create(CultureInfo.InvariantCulture, $"{figure,-60} {value,8:F2}   x{r:F2} today's")
        : string.Create(CultureInfo.InvariantCulture, $"{figure,-60} {value,8:F2}"));
    figures.Add(new()
    {
        ["figure"] = figure, ["value"] = Math.Round(value, 3), ["unit"] = "ms",
        ["baseline"] = baseline is null ? null : "today's spawn", ["baseline_value"] = baseline is null ? null : Math.Round(baseline.Value, 3),
        ["ratio"] = ratio is null ? null : Math.Round(ratio.Value, 2),
        ["goal"] = met is null ? null : "p99 <= 50 ms", ["met"] = met, ["benchmark"] = "isolation",
    });
}

// Spawn to the first byte the job writes: what a user waits for, shim, namespace and cgroup entry included.
double StartMs(JobSandbox sandbox)
{
    var clock = Stopwatch.StartNew();
    using var process = ProcessSupervisor.Start(Launch("echo ready", sandbox));
    double? first = null;
    process.PumpOutput((_, _) => first ??= clock.Elapsed.TotalMilliseconds, TimeProvider.System);
    process.WaitForExit();
    process.KillTree();
    return first ?? double.NaN;
}

// A job that spread out (background child, setsid child, double-forked daemon), killed once it said so.
double KillMs(JobSandbox sandbox)
{
    const string Spread = "sleep 300 & setsid sleep 300 & (setsid sh -c 'sleep 300 &' &); sleep 0.05; echo ready; sleep 300";
    using var process = ProcessSupervisor.Start(Launch(Spread, sandbox));
    var ready = new ManualResetEventSlim();
    var reader = new Thread(() => process.PumpOutput((chunk, _) =>
    {
        if (Encoding.ASCII.GetString(chunk).Contains("ready", StringComparison.Ordinal))
        {
            ready.Set();
        }
    }, TimeProvider.System));
    reader.Start();
    ready.Wait(TimeSpan.FromSeconds(10));
    var clock = Stopwatch.StartNew();
    process.KillTree();
    var elapsed = clock.Elapsed.TotalMilliseconds;
    process.WaitForExit();
    process.OnMainExited();
    reader.Join();
    return elapsed;
}

JobLaunch Launch(string command, JobSandbox sandbox)
{
    var id = Guid.NewGuid();
    var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["DSTACK_JOB_ID"] = id.ToString() };
    return new JobLaunch(command, env, "/tmp", Tty: false, $"DSTACK_JOB_ID={id}", sandbox);
}

static double Median(List<double> values) => Percentile(values.Order().ToList(), 0.5);

// Nearest rank: with 25 samples p99 is the largest, so the figure is the worst kill seen.
static double Percentile(List<double> sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
