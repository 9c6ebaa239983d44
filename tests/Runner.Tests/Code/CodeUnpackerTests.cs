using LogQuota.Runner.Code;
using LogQuota.Runner.Tests.Isolation;
using static LogQuota.Runner.Tests.Code.TestArchive;

namespace LogQuota.Runner.Tests.Code;

/// <summary>The unpacker on its own: as another uid the kernel owns and checks every file; cancellation; names it normalizes.</summary>
public sealed class CodeUnpackerTests : IDisposable
{
    /// <summary>A uid no account and no runner of the tests uses (the runners take 200000-299999).</summary>
    private const uint Uid = 199_931;

    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-unpack-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void Unpack(byte[] archive, string directory, FileOwner? owner = null, long max = 1 << 20, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(archive);
        CodeUnpacker.Unpack(stream, directory, owner, max, cancellationToken);
    }

    [SkippableFact]
    public void AsAnotherUid_EveryFileBelongsToIt_AndTheKernelRefusesWhatItCouldNotWrite()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var code = Path.Combine(_dir, "code");
        Directory.CreateDirectory(code);
        Privileged.Run("chown", $"{Uid}:{Uid}", code);

        Unpack(Build(Dir("src"), Regular("src/main.py", "print(1)\n"), Regular("deep/er/x", "x"), Symlink("link", "src/main.py")),
            code, new FileOwner(Uid, Uid));

        var owners = Privileged.Run("find", code, "-mindepth", "1", "-printf", "%P %U:%G\\n").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);
        Assert.Equal([$"deep {Uid}:{Uid}", $"deep/er {Uid}:{Uid}", $"deep/er/x {Uid}:{Uid}", $"link {Uid}:{Uid}", $"src {Uid}:{Uid}", $"src/main.py {Uid}:{Uid}"], owners);

        // A directory of root's, 0755: root could write there, the uid cannot, and the unpack runs with the uid's rights.
        var roots = Path.Combine(_dir, "roots");
        Directory.CreateDirectory(roots);
        Privileged.Run("chmod", "755", roots);
        var error = Assert.Throws<CodeArchiveException>(() => Unpack(Build(Regular("x", "x")), roots, new FileOwner(Uid, Uid)));
        // (The test's own directory is 0700: the code directory is opened as the runner, the uid needs no way to it.)
        Assert.Equal("code archive entry 'x' cannot be created: Permission denied", error.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(roots));
    }

    [SkippableFact]
    public void AsAnotherUid_TheCallingThreadKeepsTheRunnersIdentity()
    {
        var whyNot = Privileged.WhyNotRoot();
        Skip.If(whyNot is not null, whyNot);
        var code = Path.Combine(_dir, "code");
        Directory.CreateDirectory(code);
        Privileged.Run("chown", $"{Uid}:{Uid}", code);
        Unpack(Build(Regular("a", "a")), code, new FileOwner(Uid, Uid));

        File.WriteAllText(Path.Combine(_dir, "after"), "written by this thread");
        Assert.Equal("0:0", Privileged.Run("stat", "-c", "%u:%g", Path.Combine(_dir, "after")).Trim());
    }

    [Fact]
    public void AsTheRunner_NamesAreNormalized_AndAnArchiveMayNameADirectoryAgain()
    {
        Unpack(Build(Dir("./"), Regular("./a//b/./c", "c"), Dir("a"), Dir("a/b", (UnixFileMode)0b111_000_000), Regular("a/d", "d")), _dir);
        Assert.Equal("c", File.ReadAllText(Path.Combine(_dir, "a", "b", "c")));
        Assert.Equal("700", Privileged.ModeOf(Path.Combine(_dir, "a", "b")));
        Assert.Equal("d", File.ReadAllText(Path.Combine(_dir, "a", "d")));
    }

    [Fact]
    public void ANameGivenTwice_IsRefused_NotOverwritten()
    {
        var error = Assert.Throws<CodeArchiveException>(() => Unpack(Build(Regular("a", "first"), Regular("a", "second")), _dir));
        Assert.Equal("code archive entry 'a' names a path the archive already made", error.Message);
        Assert.Equal("first", File.ReadAllText(Path.Combine(_dir, "a")));
    }

    [Fact]
    public void ASymlinkPlantedBeforeTheUnpack_IsNeverFollowed()
    {
        // Someone (a job of the same uid) put a link where the archive makes a directory: the unpack refuses to pass it.
        var outside = Directory.CreateTempSubdirectory("logquota-outside-").FullName;
        try
        {
            File.CreateSymbolicLink(Path.Combine(_dir, "src"), outside);
            var error = Assert.Throws<CodeArchiveException>(() => Unpack(Build(Regular("src/x", "x")), _dir));
            Assert.StartsWith("code archive entry 'src/x' passes through 'src', which is not a directory", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        }
        finally
        {
            Directory.Delete(outside);
        }
    }

    [Fact]
    public void AnArchiveRefusedForItsNamesTypesOrSizes_CreatesNothingAtAll()
    {
        // The first pass checks what needs no file system: the good entries before the bad one are never written.
        foreach (var bad in new[] { Regular("bomb", new byte[2 << 20]), Regular("../x", "x"), Special(System.Formats.Tar.TarEntryType.Fifo, "fifo"), HardLink("shadow", "/etc/shadow") })
        {
            var error = Assert.Throws<CodeArchiveException>(() => Unpack(Build(Dir("src"), Regular("src/a", "a"), bad), _dir));
            Assert.Contains($"'{bad.Name}'", error.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
        }
    }

    [Fact]
    public void ACancelledUnpack_StopsAtTheNextEntry()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.Throws<OperationCanceledException>(() => Unpack(Build(Regular("a", "a")), _dir, cancellationToken: cancelled.Token));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }

    [Fact]
    public void AnEmptyTar_UnpacksToNothing()
    {
        Unpack(Empty(), _dir);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
    }
}
