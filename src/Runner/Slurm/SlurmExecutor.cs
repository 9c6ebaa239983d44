using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Slurm;

/// <summary>
/// Runs this runner's jobs through Slurm (<c>DSTACK_RUNNER_EXECUTOR=slurm</c>): each job is an allocation
/// (<see cref="SlurmSubmission"/>), its command one <c>srun --pty</c> step under the runner's own terminal, so the
/// screen, the quota and the markers work unchanged. Owns what outlives one call to Slurm: the cancels that did not
/// land (slurmctld away) and the sweep of a predecessor's jobs, both retried until Slurm answers.
/// </summary>
internal sealed class SlurmExecutor : IDisposable
{
    /// <summary>Every Slurm job of LogQuota is named this and the job's id: how it is found in <c>squeue</c>.</summary>
    public const string NamePrefix = "logquota-";

    /// <summary>How often cancels that did not land and a pending sweep are tried again; Slurm's own retries are slower.</summary>
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(3);

    private readonly RunnerSettings _settings;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<long, byte> _toCancel = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _reconciler;
    private Func<Guid, bool>? _sweepPending;

    public SlurmExecutor(RunnerSettings settings, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        Time = time;
        _logger = logger;
        Comment = "logquota-runner-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Environment.MachineName}:{settings.Dir}")))[..16];
        _reconciler = Task.Run(ReconcileAsync);
    }

    public TimeProvider Time { get; }

    /// <summary>The comment every Slurm job of this runner carries: its host and directory, so runners sharing a cluster never end each other's jobs.</summary>
    public string Comment { get; }

    /// <summary>Slurm decides what a job may ask (it holds it pending, or refuses it): the runner sets no bound of its own.</summary>
    public static RunnerCapacity Capacity { get; } = new(1_000_000, long.MaxValue, int.MaxValue);

    /// <summary>Partitions a run may name (<c>DSTACK_RUNNER_SLURM_PARTITIONS</c>).</summary>
    public IReadOnlyList<string> Partitions => _settings.SlurmPartitions;

    /// <summary>
    /// Waits in Slurm's queue for the job's allocation (its id and pending reason noted on <paramref name="job"/> as they
    /// change), then returns <paramref name="launch"/> rewritten to run its command as a step of it. Throws
    /// <see cref="JobStartException"/> with Slurm's words when Slurm refuses it or cannot be reached.
    /// </summary>
    public JobLaunch Launch(Jobs.Job job, JobLaunch launch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(launch);
        var spec = job.Body.JobSpec;
        var slurmJobId = new SlurmSubmission(this, job, _logger).Allocate(AllocationArguments(job.Id, spec), cancellationToken);
        var errors = Path.Combine(job.Directory, "srun.err");
        var directory = launch.Subdirectory is null ? launch.WorkingDirectory : Path.Combine(launch.WorkingDirectory, launch.Subdirectory);
        Directory.CreateDirectory(directory);
        var environment = new Dictionary<string, string>(launch.Environment, StringComparer.Ordinal);
        if (Environment.GetEnvironmentVariable("SLURM_CONF") is { Length: > 0 } conf)
        {
            environment.TryAdd("SLURM_CONF", conf);
        }

        // --quiet: srun's progress lines would land in the job's log; its errors go to a file of the runner's. Without a
        // terminal (tty: false) the task merges its stderr into its stdout on the node, one stream in order, as locally.
        var task = launch.Tty ? launch.ShellCommand : "exec 2>&1; " + launch.ShellCommand;
        var command = string.Create(CultureInfo.InvariantCulture,
            $"exec srun --jobid={slurmJobId}{(launch.Tty ? " --pty" : "")} --quiet --chdir={Quote(directory)} /bin/sh -c {Quote(task)} 2>>{Quote(errors)}");
        return launch with
        {
            ShellCommand = command,
            Environment = environment,
            Subdirectory = null,
            External = new SlurmAllocation(this, job.Id, slurmJobId, errors, _logger),
        };
    }

    /// <summary>salloc's options: the site's first, then what the run asks, which wins where both name the same option.</summary>
    private List<string> AllocationArguments(Guid jobId, JobSpec spec)
    {
        var args = new List<string> { "--no-shell", $"--job-name={NamePrefix}{jobId:N}", $"--comment={Comment}" };
        args.AddRange(_settings.SlurmArgs);
        if (spec.Resources is { } resources)
        {
            if (resources.Cpus is { } cpus)
            {
                args.Add(string.Create(CultureInfo.InvariantCulture, $"--cpus-per-task={(int)Math.Ceiling(cpus)}"));
            }

            if (resources.Memory is { } memory)
            {
                args.Add(string.Create(CultureInfo.InvariantCulture, $"--mem={(memory + (1 << 20) - 1) >> 20}M"));
            }

            if (resources.Gpus is > 0 and var gpus)
            {
                args.Add(string.Create(CultureInfo.InvariantCulture, $"--gres=gpu:{gpus}"));
            }

            if (resources.Partition is { } partition)
            {
                args.Add($"--partition={partition}");
            }
        }

        if (spec.MaxDuration is { } seconds)
        {
            // Slurm's limits are whole minutes; the runner's own timer still ends the job at the exact second.
            args.Add(string.Create(CultureInfo.InvariantCulture, $"--time={(seconds + 59) / 60}"));
        }

        return args;
    }

    /// <summary>Signals every step of the job, wherever it runs; not awaited (a stop's SIGKILL follows on its own timer).</summary>
    public void Signal(long slurmJobId, int signal)
    {
        var name = signal == Native.SIGTERM ? "TERM" : signal.ToString(CultureInfo.InvariantCulture);
        _ = Task.Run(() =>
        {
            var answer = SlurmCommands.Run("scancel", ["--full", $"--signal={name}", slurmJobId.ToString(CultureInfo.InvariantCulture)]);
            if (!answer.Succeeded && !IsGone(answer.Error))
            {
                _logger.LogWarning("Signal {Signal} to Slurm job {SlurmJobId} did not land ({Why}); its kill follows", name, slurmJobId, answer.Why);
            }
        });
    }

    /// <summary>
    /// Issues <c>scancel --full</c> now (a process started on the calling thread, not waited for) and makes sure it
    /// lands: one Slurm did not take is retried until it does, so no allocation outlives its job.
    /// </summary>
    public void Cancel(long slurmJobId)
    {
        var process = SlurmCommands.Start("scancel", ["--full", slurmJobId.ToString(CultureInfo.InvariantCulture)]);
        _ = Task.Run(() =>
        {
            using (process)
            {
                var error = process.StandardError.ReadToEnd();
                if (!process.WaitForExit(SlurmCommands.CallTimeout))
                {
                    SlurmCommands.TryKill(process);
                }

                if (!process.HasExited || (process.ExitCode != 0 && !IsGone(error)))
                {
                    _logger.LogWarning("scancel of Slurm job {SlurmJobId} did not land ({Error}); retried every {Period} s", slurmJobId, error.Trim(), RetryPeriod.TotalSeconds);
                    _toCancel[slurmJobId] = 0;
                }
            }
        });
    }

    /// <summary>
    /// Ends the Slurm jobs an earlier process of this runner left (found by <see cref="Comment"/> and
    /// <see cref="NamePrefix"/>): their terminals died with it, so nobody can read them any more. With slurmctld away it
    /// is tried again until it answers.
    /// </summary>
    public void EndLeftovers(Func<Guid, bool> held)
    {
        if (!TrySweep(held))
        {
            Volatile.Write(ref _sweepPending, held);
        }
    }

    private bool TrySweep(Func<Guid, bool> held)
    {
        var answer = SlurmCommands.Run("squeue", ["-h", "-o", "%i|%j|%k"]);
        if (!answer.Succeeded)
        {
            _logger.LogWarning("Slurm's queue cannot be read for this runner's leftover jobs ({Why}); tried again every {Period} s", answer.Why, RetryPeriod.TotalSeconds);
            return false;
        }

        foreach (var line in answer.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split('|');
            if (parts.Length == 3 && parts[2] == Comment && parts[1].StartsWith(NamePrefix, StringComparison.Ordinal)
                && Guid.TryParseExact(parts[1][NamePrefix.Length..], "N", out var jobId) && !held(jobId)
                && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var slurmJobId))
            {
                _logger.LogWarning("Job {JobId} was left by an earlier runner process as Slurm job {SlurmJobId}; it is cancelled", jobId, slurmJobId);
                Cancel(slurmJobId);
            }
        }

        return true;
    }

    private async Task ReconcileAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(RetryPeriod, Time, _stopping.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                if (Volatile.Read(ref _sweepPending) is { } held && TrySweep(held))
                {
                    Volatile.Write(ref _sweepPending, null);
                }

                foreach (var slurmJobId in _toCancel.Keys)
                {
                    var answer = SlurmCommands.Run("scancel", ["--full", slurmJobId.ToString(CultureInfo.InvariantCulture)]);
                    if (answer.Succeeded || IsGone(answer.Error))
                    {
                        _toCancel.TryRemove(slurmJobId, out _);
                        _logger.LogInformation("Slurm job {SlurmJobId} is cancelled now that Slurm answers again", slurmJobId);
                    }
                }
            }
            catch (Exception e)
            {
                // The loop must go on: it is how an allocation left during an outage is ever released.
                _logger.LogError(e, "Reconciling with Slurm failed");
            }
        }
    }

    /// <summary>scancel's words for a job that is already over: nothing left to cancel.</summary>
    private static bool IsGone(string error) =>
        error.Contains("already completing or completed", StringComparison.Ordinal) || error.Contains("Invalid job id", StringComparison.Ordinal);

    /// <summary>One word for <c>/bin/sh</c>: single quotes, each inner quote closed, escaped and reopened.</summary>
    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _reconciler.Wait(TimeSpan.FromSeconds(20));
        }
        catch (AggregateException)
        {
        }

        _stopping.Dispose();
    }
}
