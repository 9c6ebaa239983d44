using System.Diagnostics;
using System.Text;
using LogQuota.Server.Budgets;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Metrics;
using LogQuota.Shared.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace LogQuota.Server.Bench;

/// <summary>
/// The cost of a project budget's evidence per page: the transaction that stores one pulled page of 64 KiB (the
/// budget's charge, the log events, the commit) on a real SQLite file, with the hour's evidence kept (top lines,
/// minutes, dropped tail) against the same charge without it, in the same run. Two cases: an hour under its budget
/// (every page stored) and an hour past a <c>truncate</c> budget (every page dropped, so the 64 KiB tail is rewritten
/// each time). The modes take turns, a fresh database each, and each one's median is taken.
/// </summary>
internal static class BudgetChargeBench
{
    private const int PageBytes = 64 * 1024;

    public static async Task<int> RunAsync(string dir, bool quick, string? jsonPath, CancellationToken cancellationToken)
    {
        var pages = quick ? 300 : 1000;
        var rounds = quick ? 3 : 5;
        Console.WriteLine($"budget charge bench ({(quick ? "quick" : "full")}): {pages} pages of {PageBytes / 1024} KiB per measure, {rounds} rounds; temp dir {dir}");
        List<Figure> figures = [];
        foreach (var (name, limit, action) in new[] { ("stored", 1L << 40, LogQuotaAction.Kill), ("dropped", 1L, LogQuotaAction.Truncate) })
        {
            var times = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
            var cpus = new Dictionary<bool, List<double>> { [true] = [], [false] = [] };
            for (var round = 0; round < rounds; round++)
            {
                foreach (var evidence in round % 2 == 0 ? new[] { true, false } : [false, true])
                {
                    var (perPage, cpu) = await MeasureAsync(Path.Combine(dir, $"{name}-{round}-{evidence}.db"), evidence, limit, action, pages, cancellationToken);
                    times[evidence].Add(perPage);
                    cpus[evidence].Add(cpu);
                    Console.WriteLine($"{name}, round {round + 1}, evidence {(evidence ? "kept" : "not kept")}: {perPage:0.000} ms per page, CPU {cpu:0.000} ms per page");
                }
            }

            // CPU time is the figure: the wall time of a commit is mostly the disk's and the machine's other load's.
            var (with, without) = (Median(cpus[true]), Median(cpus[false]));
            figures.Add(new Figure(
                $"budget_charge_evidence_{name}",
                $"CPU of the page transaction (budget charge + {PageBytes / 1024} KiB of log events + commit, SQLite), every page {name}, with the budget's evidence",
                Math.Round(with, 3),
                "ms CPU/page",
                "the same charge without the evidence",
                Math.Round(without, 3),
                Math.Round(with / without, 3),
                "<= 1.25 x baseline",
                with / without <= 1.25,
                $"median of {rounds} rounds in alternating order (CPU kept: {string.Join(", ", cpus[true].Select(t => t.ToString("0.000")))}; "
                    + $"not kept: {string.Join(", ", cpus[false].Select(t => t.ToString("0.000")))} ms); wall time per page, median: kept {Median(times[true]):0.000} ms, "
                    + $"not kept {Median(times[false]):0.000} ms; a fresh SQLite file per measure"));
        }

        Figure.Print(figures);
        if (jsonPath is not null)
        {
            await Figure.WriteAsync(jsonPath, figures);
            Console.WriteLine($"wrote {Path.GetFullPath(jsonPath)}");
        }

        return 0;
    }

    /// <summary>Milliseconds per page transaction, of wall time and of this process's CPU, after 50 pages of warm-up.</summary>
    private static async Task<(double Wall, double Cpu)> MeasureAsync(string path, bool evidence, long limit, LogQuotaAction action, int pages, CancellationToken cancellationToken)
    {
        var settings = new ServerSettings { Dir = Path.GetDirectoryName(path)!, ConnectionString = $"Data Source={path}", AdminToken = "bench" };
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddMetrics();
        services.AddSingleton(settings);
        services.AddSingleton(TimeProvider.System);
        services.AddServerDatabase(settings);
        services.AddSingleton<BudgetMetrics>();
        await using var provider = services.BuildServiceProvider();
        await using var scope = provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServerDbContext>();
        await db.Database.MigrateAsync(cancellationToken);

        var project = new ProjectEntity { Id = Guid.CreateVersion7(), Name = "bench", CreatedAt = DateTimeOffset.UtcNow, LogBudgetHour = limit, LogBudgetAction = action };
        var run = new RunEntity { Id = Guid.CreateVersion7(), ProjectId = project.Id, RunName = "bench", SubmittedAt = DateTimeOffset.UtcNow };
        var job = new JobEntity { Id = Guid.CreateVersion7(), ProjectId = project.Id, Run = run, Spec = new JobSpec(["true"]), Status = JobStatus.Running, SubmittedAt = DateTimeOffset.UtcNow };
        run.Jobs.Add(job);
        db.Projects.Add(project);
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);

        var budgets = new ProjectBudgets(settings, provider.GetRequiredService<BudgetMetrics>(), TimeProvider.System, NullLogger<ProjectBudgets>.Instance) { KeepsEvidence = evidence };
        const int WarmUp = 50;
        // Made before the clock starts: formatting the lines would cost more than the charge being measured.
        var made = Enumerable.Range(0, WarmUp + pages).Select(Page).ToList();
        var clock = new Stopwatch();
        var cpuBefore = TimeSpan.Zero;
        for (var i = 0; i < WarmUp + pages; i++)
        {
            if (i == WarmUp)
            {
                cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                clock.Start();
            }

            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var logs = await budgets.ChargeAsync(db, job, made[i], read: null, cancellationToken);
            await LogEventWriter.AppendAsync(db, job.Id, logs, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        clock.Stop();
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        return (clock.Elapsed.TotalMilliseconds / pages, cpu.TotalMilliseconds / pages);
    }

    /// <summary>
    /// Page <paramref name="number"/>: 64 KiB in 16 events of whole lines of about 80 bytes, as a training job writes them:
    /// mostly distinct step lines, with a warning repeated among them.
    /// </summary>
    private static PullResponse Page(int number)
    {
        var logs = new List<LogEvent>();
        var line = 0;
        for (var e = 0; e < 16; e++)
        {
            var text = new StringBuilder();
            while (text.Length < PageBytes / 16 - 100)
            {
                text.Append(line % 5 == 0
                    ? "UserWarning: torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly\n"
                    : $"step {number * 1000 + line} loss={(line * 7919 % 1000) / 1000.0:0.000} lr=3e-4 grad_norm={(line % 97) / 10.0:0.0}\n");
                line++;
            }

            logs.Add(new LogEvent((long)number * 100 + e, Encoding.UTF8.GetBytes(text.ToString())));
        }

        return new PullResponse([], logs, (long)number * 100 + 99, HasMore: true, LogBytesHour: 0);
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
