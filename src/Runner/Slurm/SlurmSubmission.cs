using System.Globalization;
using System.Text.RegularExpressions;
using LogQuota.Runner.Execution;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Slurm;

/// <summary>
/// One job's wait for its allocation: <c>salloc --no-shell</c> prints the Slurm job id at once and returns when the
/// allocation is granted. Meanwhile the job has no state (the server shows it <c>provisioning</c>) and its run gets an
/// event with Slurm's job id and pending reason each time the reason changes. A stop meanwhile cancels the Slurm job.
/// </summary>
internal sealed partial class SlurmSubmission(SlurmExecutor executor, Jobs.Job job, ILogger logger)
{
    /// <summary>How often the pending reason is read from <c>squeue</c>; a person waiting sees a change within it.</summary>
    private static readonly TimeSpan ReasonPeriod = TimeSpan.FromSeconds(2);

    private long _slurmJobId;

    /// <summary>Returns the granted Slurm job id; throws <see cref="JobStartException"/> with Slurm's words, or <see cref="OperationCanceledException"/> on a stop.</summary>
    public long Allocate(List<string> arguments, CancellationToken cancellationToken)
    {
        using var salloc = SlurmCommands.Start("salloc", arguments);
        var errors = new List<string>();
        using var reasons = new CancellationTokenSource();
        Task? watcher = null;
        using (cancellationToken.Register(() =>
        {
            // salloc cancels a pending job it is told to stop; scancel covers a job already granted in that instant.
            _ = Native.kill(salloc.Id, Native.SIGTERM);
            if (Interlocked.Read(ref _slurmJobId) is > 0 and var id)
            {
                executor.Cancel(id);
            }
        }))
        {
            while (salloc.StandardError.ReadLine() is { } line)
            {
                errors.Add(line);
                if (AllocationLine().Match(line) is { Success: true } match)
                {
                    var id = long.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture);
                    if (Interlocked.Exchange(ref _slurmJobId, id) == 0 && match.Groups[1].Value == "Pending")
                    {
                        watcher = Task.Run(() => WatchReasonAsync(id, reasons.Token), CancellationToken.None);
                    }
                }
            }

            salloc.WaitForExit();
            reasons.Cancel();
            watcher?.Wait(SlurmCommands.CallTimeout, CancellationToken.None);
        }

        var slurmJobId = Interlocked.Read(ref _slurmJobId);
        cancellationToken.ThrowIfCancellationRequested();
        if (salloc.ExitCode != 0 || slurmJobId == 0)
        {
            var why = errors.LastOrDefault(e => e.Contains("error", StringComparison.OrdinalIgnoreCase)) ?? errors.LastOrDefault() ?? $"salloc exited with {salloc.ExitCode}";
            if (slurmJobId > 0)
            {
                executor.Cancel(slurmJobId);
            }

            throw new JobStartException($"Slurm did not run the job: {why.Replace("salloc: ", "", StringComparison.Ordinal).Replace("error: ", "", StringComparison.Ordinal)}");
        }

        var node = SlurmCommands.Run("squeue", ["-h", "-j", slurmJobId.ToString(CultureInfo.InvariantCulture), "-o", "%N"]).Output.Trim();
        job.Note(JobEventTypes.SlurmStarted, $"Slurm job {slurmJobId} runs on {(node.Length > 0 ? node : "its node")}");
        logger.LogInformation("Job {JobId} runs as Slurm job {SlurmJobId} on {Node}", job.Id, slurmJobId, node);
        return slurmJobId;
    }

    private async Task WatchReasonAsync(long slurmJobId, CancellationToken cancellationToken)
    {
        string? noted = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var answer = SlurmCommands.Run("squeue", ["-h", "-j", slurmJobId.ToString(CultureInfo.InvariantCulture), "-o", "%T|%r"]);
                var parts = answer.Output.Trim().Split('|');
                var reason = answer.Succeeded && parts is ["PENDING", var r] ? r : null;
                if (reason is not null && reason != noted && !cancellationToken.IsCancellationRequested)
                {
                    noted = reason;
                    job.Note(JobEventTypes.SlurmPending, $"Slurm job {slurmJobId} is pending: {reason}");
                }

                await Task.Delay(ReasonPeriod, executor.Time, cancellationToken);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            // Only the display of the reason is lost; the wait itself goes on in salloc.
            logger.LogWarning(e, "Job {JobId}: reading the pending reason of Slurm job {SlurmJobId} failed", job.Id, slurmJobId);
        }
    }

    [GeneratedRegex(@"(Pending|Granted) job allocation (\d+)")]
    private static partial Regex AllocationLine();
}
