using LogQuota.Runner.Configuration;
using LogQuota.Runner.Execution;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Jobs;

/// <summary>Where one job's files are: its own directory, its HOME, its code directory, and where it starts.</summary>
/// <param name="Root"><c>&lt;work&gt;/&lt;job id&gt;</c>, the job user's, 0700.</param>
/// <param name="Home">HOME: <c>Root/home</c>, or the job user's own home.</param>
/// <param name="Code"><c>Root/code</c>: the run's code is unpacked here; empty without code.</param>
/// <param name="WorkingDirectory">The existing directory the job's process is started in.</param>
/// <param name="Subdirectory">A relative working_dir below <paramref name="WorkingDirectory"/>, created and entered as the job's user; null when none.</param>
internal sealed record JobPaths(string Root, string Home, string Code, string WorkingDirectory, string? Subdirectory);

/// <summary>
/// The job disk layout: <c>DSTACK_RUNNER_WORK_DIR</c> holds one directory per job, named by its id and owned by the
/// job's user (0700), with <c>home/</c> and <c>code/</c> in it. The runner's own directory (spools) stays private
/// (0700); the work directory lets jobs through to their own directory by path (0711) when they run under other uids,
/// so every directory above it must let others through too, which is checked once at start-up.
/// </summary>
internal sealed class JobDirectories
{
    /// <summary>Where jobs under other uids get their directories unless told otherwise: outside any home or service directory.</summary>
    public const string SharedDefault = "/var/lib/logquota/work";

    /// <summary>Creates the work directory with its mode; throws <see cref="SettingsException"/> when jobs could not reach it.</summary>
    public JobDirectories(RunnerSettings settings, RunnerIsolation isolation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(isolation);
        WorkDir = settings.WorkDir ?? (isolation.JobsRunAsOthers ? SharedDefault : Path.Combine(settings.Dir, "work"));
        try
        {
            FileModes.CreateDirectory(WorkDir, isolation.JobsRunAsOthers ? FileModes.Traversable : FileModes.Private);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SettingsException($"DSTACK_RUNNER_WORK_DIR={WorkDir} is unusable: {e.Message.TrimEnd('.')}");
        }

        // ext4 puts a new directory in the block group of its parent, and on a file system without a journal a new file
        // there skips, one lookup each, every inode of that group freed in the last minutes: job directories come and go
        // all day, so a job's code unpacked 10 times slower after others had been deleted (bench/RESULTS.md). "Top of a
        // hierarchy" (chattr +T) spreads the directories made here over the block groups, as for the root's. Best
        // effort: other file systems have no such flag.
        _ = Native.TryAddDirectoryFlag(WorkDir, Native.FS_TOPDIR_FL);

        if (isolation.JobsRunAsOthers && UnreachableAncestor(WorkDir) is var (blocked, mode))
        {
            throw new SettingsException(
                $"DSTACK_RUNNER_WORK_DIR={WorkDir} is out of the jobs' reach: {blocked} has mode {Convert.ToString((int)mode, 8).PadLeft(4, '0')}, and jobs run under other uids need search permission for others (o+x) on every directory above it");
        }
    }

    /// <summary>The directory that holds every job's directory.</summary>
    public string WorkDir { get; }

    /// <summary>The job's own directory, <c>&lt;work dir&gt;/&lt;job id&gt;</c>: everything of it that <c>DSTACK_RUNNER_JOB_DISK_MAX</c> counts.</summary>
    public string RootOf(Guid jobId) => Path.Combine(WorkDir, jobId.ToString("N"));

    /// <summary>
    /// Makes the job's directory afresh (a leftover of the same job id is removed first), gives it to the job's user,
    /// and says where the job starts. Throws <see cref="JobStartException"/>.
    /// </summary>
    public JobPaths Create(Guid jobId, string? workingDir, bool hasCode, JobSandbox sandbox)
    {
        ArgumentNullException.ThrowIfNull(sandbox);
        var root = RootOf(jobId);
        var (home, code) = (Path.Combine(root, "home"), Path.Combine(root, "code"));
        try
        {
            Delete(jobId);
            foreach (var directory in new[] { root, home, code })
            {
                FileModes.CreateDirectory(directory, FileModes.Private);
                sandbox.Own(directory);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new JobStartException($"Cannot create the job's directory {root}: {e.Message}");
        }

        home = sandbox.User?.Home ?? home;
        if (workingDir is not null && !Path.IsPathRooted(workingDir))
        {
            if (sandbox.ShimPath is null)
            {
                // No shim, so the job runs under the runner's own uid: creating it here is creating it as the job's user.
                var inside = Path.Combine(code, workingDir);
                try
                {
                    Directory.CreateDirectory(inside);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new JobStartException($"Cannot create the working directory {workingDir}: {e.Message}");
                }

                return new JobPaths(root, home, code, inside, null);
            }

            return new JobPaths(root, home, code, code, workingDir);
        }

        // A given absolute working_dir is entered before the uid changes, so it needs no search permission on its
        // parents for the job's uid, but what the job may read or write in it is the uid's own business (docs/server.md).
        return new JobPaths(root, home, code, workingDir ?? (hasCode ? code : home), null);
    }

    /// <summary>Removes the job's directory. False when something in it could not be removed (a file held by an escaped process).</summary>
    public bool TryDelete(Guid jobId)
    {
        try
        {
            Delete(jobId);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void Delete(Guid jobId)
    {
        try
        {
            // Recursive deletion removes symbolic links the job made, never what they point to.
            Directory.Delete(RootOf(jobId), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    /// <summary>The first directory from / down to <paramref name="dir"/> that others may not search, with its mode.</summary>
    private static (string Directory, UnixFileMode Mode)? UnreachableAncestor(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        for (var current = Path.GetDirectoryName(dir); current is not null; current = Path.GetDirectoryName(current))
        {
            var mode = File.GetUnixFileMode(current);
            if (!mode.HasFlag(UnixFileMode.OtherExecute))
            {
                // Checked from the work directory up, so the one named is the nearest; any of them blocks.
                return (current, mode);
            }
        }

        return null;
    }
}
