using LogQuota.Runner.Code;
using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;
using LogQuota.Runner.Slurm;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Jobs;

/// <summary>
/// Lays out what a job runs in before its process starts: its sandbox (cgroup, limits, uid), its directories on disk, its
/// code unpacked, and its environment. Runs off the submit's path when the job has code (an unpack can take minutes).
/// </summary>
/// <param name="codeMaxUnpacked">The most a job's code may take unpacked (<c>DSTACK_RUNNER_CODE_MAX_UNPACKED</c>).</param>
/// <param name="slurm">Runs the jobs through Slurm (<c>DSTACK_RUNNER_EXECUTOR=slurm</c>); null runs them on this host.</param>
internal sealed class JobPreparation(
    RunnerIsolation isolation, JobDirectories directories, JobEnvironment environment, CodeArchives code, long codeMaxUnpacked, SlurmExecutor? slurm)
{
    /// <summary>The job's launch. Throws <see cref="JobStartException"/>, which ends the job executor_error; a cancellation stops an unpack.</summary>
    public JobLaunch Prepare(Job job, CancellationToken cancellationToken)
    {
        var spec = job.Body.JobSpec;
        // Under Slurm the job's processes run where Slurm puts them, in its containment; here runs only srun.
        var sandbox = slurm is null ? isolation.CreateSandbox(job.Id, spec.Resources) : JobSandbox.Unconfined;
        JobPaths paths;
        try
        {
            paths = directories.Create(job.Id, spec.WorkingDir, spec.CodeHash is not null, sandbox);
            if (spec.CodeHash is { } codeHash)
            {
                JobCode.Unpack(code, codeHash, paths.Code, sandbox, codeMaxUnpacked, cancellationToken);
            }
        }
        catch
        {
            sandbox.Release();
            throw;
        }

        var env = environment.For(sandbox, paths.Home, spec.Tty, WithSecrets(spec.Env, job.Body.Secrets), job.Body.Run.RunName, job.Id);
        var launch = new JobLaunch(string.Join(" && ", spec.Commands), env, paths.WorkingDirectory, spec.Tty, JobRegistry.Marker(job.Id), sandbox)
        {
            Subdirectory = paths.Subdirectory,
            Columns = spec.Columns ?? JobSpecRules.DefaultColumns,
        };
        return slurm is null ? launch : slurm.Launch(job, launch, cancellationToken);
    }

    /// <summary>The run's own variables and its secrets' values, which the server checked never share a name.</summary>
    private static IReadOnlyDictionary<string, string>? WithSecrets(IReadOnlyDictionary<string, string>? env, IReadOnlyDictionary<string, string>? secrets)
    {
        if (secrets is not { Count: > 0 })
        {
            return env;
        }

        var all = new Dictionary<string, string>(env ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (name, value) in secrets)
        {
            all[name] = value;
        }

        return all;
    }
}
