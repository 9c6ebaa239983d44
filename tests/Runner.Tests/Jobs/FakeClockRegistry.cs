using LogQuota.Runner.Configuration;
using LogQuota.Runner.Jobs;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests;

/// <summary>
/// A job registry on a fake clock, over a temporary directory its jobs can read and write (a root runner runs each job
/// under a uid of its own, SPEC §7); disposing it disposes the registry and removes the directory and its work directory.
/// </summary>
internal sealed class FakeClockRegistry : IDisposable
{
    public FakeClockRegistry(string prefix)
    {
        Dir = Directory.CreateTempSubdirectory(prefix).FullName;
        Isolation.Privileged.OpenToJobs(Dir);
        Registry = new JobRegistry(new RunnerSettings { Dir = Dir, WorkDir = RunnerHost.WorkDirOf(Dir) }, Time, NullLoggerFactory.Instance);
    }

    public string Dir { get; }

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);

    public JobRegistry Registry { get; }

    public void Dispose()
    {
        Registry.Dispose();
        Directory.Delete(Dir, recursive: true);
        if (Directory.Exists(RunnerHost.WorkDirOf(Dir)))
        {
            Directory.Delete(RunnerHost.WorkDirOf(Dir), recursive: true);
        }
    }
}
