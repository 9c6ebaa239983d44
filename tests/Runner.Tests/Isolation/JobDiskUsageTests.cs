using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// What <c>DSTACK_RUNNER_JOB_DISK_MAX</c> counts, on real files: the blocks a job's files take, a symlink as itself
/// (never what it points to), a hard-linked file once, and nothing of another file system mounted inside.
/// </summary>
public sealed class JobDiskUsageTests : IDisposable
{
    private const long MiB = 1L << 20;
    private readonly string _root = Directory.CreateTempSubdirectory("logquota-du-").FullName;
    private readonly string _outside = Directory.CreateTempSubdirectory("logquota-du-outside-").FullName;

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
        Directory.Delete(_outside, recursive: true);
    }

    [Fact]
    public void CountsTheBlocksOfFilesInNestedDirectories()
    {
        Write(Path.Combine(_root, "home", "a"), 2 * MiB);
        Write(Path.Combine(_root, "code", "deep", "er", "b"), 3 * MiB);

        var used = new JobDiskUsage(_root, 1).Measure();

        Assert.InRange(used, 5 * MiB, 5 * MiB + (256 * 1024));
    }

    [Fact]
    public void FollowsNoSymlink_ToAFileOrADirectory()
    {
        Write(Path.Combine(_outside, "big"), 8 * MiB);
        Write(Path.Combine(_root, "home", "own"), 1 * MiB);
        File.CreateSymbolicLink(Path.Combine(_root, "home", "to-file"), Path.Combine(_outside, "big"));
        Directory.CreateSymbolicLink(Path.Combine(_root, "home", "to-dir"), _outside);
        Directory.CreateSymbolicLink(Path.Combine(_root, "home", "loop"), _root);

        var used = new JobDiskUsage(_root, 1).Measure();

        Assert.InRange(used, 1 * MiB, 1 * MiB + (256 * 1024));
    }

    [Fact]
    public void CountsAHardLinkedFileOnce_AndASparseFileByWhatItHolds()
    {
        var file = Path.Combine(_root, "home", "once");
        Write(file, 2 * MiB);
        for (var i = 0; i < 5; i++)
        {
            Privileged.Run("ln", file, Path.Combine(_root, "home", $"link{i}"));
        }

        Privileged.Run("truncate", "-s", "10G", Path.Combine(_root, "home", "sparse"));

        var used = new JobDiskUsage(_root, 1).Measure();

        Assert.InRange(used, 2 * MiB, 2 * MiB + (256 * 1024));
    }

    [Fact]
    public void AMissingDirectory_TakesNothing() =>
        Assert.Equal(0, new JobDiskUsage(Path.Combine(_root, "not-yet"), 1).Measure());

    [SkippableFact]
    public void DoesNotEnterAnotherFileSystemMountedInside()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        Write(Path.Combine(_root, "home", "own"), 1 * MiB);
        var mount = Directory.CreateDirectory(Path.Combine(_root, "home", "mnt")).FullName;
        Privileged.Run("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mount);
        try
        {
            Write(Path.Combine(mount, "elsewhere"), 8 * MiB);

            var used = new JobDiskUsage(_root, 1).Measure();

            Assert.InRange(used, 1 * MiB, 1 * MiB + (256 * 1024));
        }
        finally
        {
            Privileged.Run("umount", "-l", mount);
        }
    }

    /// <summary>A file of <paramref name="bytes"/> written out, so every block of it is allocated.</summary>
    private static void Write(string path, long bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var data = new byte[bytes];
        Random.Shared.NextBytes(data);
        File.WriteAllBytes(path, data);
    }
}
