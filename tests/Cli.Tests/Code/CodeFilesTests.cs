using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using LogQuota.Cli.Code;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.Code;

/// <summary>Which files are the code: what git shows inside a work tree, the walk minus <c>.logquotaignore</c> outside.</summary>
public sealed class CodeFilesTests
{
    [Fact]
    public async Task InAGitWorkTree_TheArchiveHoldsExactlyWhatGitShows()
    {
        using var repo = ProjectTree.Git();
        repo.Write(".gitignore", "*.log\nbuild/\n/secret.env\n");
        repo.Write("train.py", "print('hi')\n");
        repo.Write("src/nested/deep/model.py", "x = 1\n");
        repo.Write("run.sh", "#!/bin/sh\necho run\n");
        repo.MakeExecutable("run.sh");
        repo.Symlink("latest.py", "train.py");
        repo.Write("gone.txt", "deleted after the commit\n");
        repo.RunGit("add", "-A");
        repo.RunGit("commit", "-q", "-m", "first");
        File.Delete(Path.Combine(repo.Root, "gone.txt"));
        repo.Write("untracked.txt", "not yet added\n");
        repo.Write("src/untracked-too.md", "also\n");
        repo.Write("debug.log", "ignored by *.log\n");
        repo.Write("src/nested/run.log", "ignored at depth\n");
        repo.Write("build/out.bin", "ignored directory\n");
        repo.Write("secret.env", "anchored ignore\n");
        repo.Write("src/secret.env", "not anchored here: sent\n");

        var listing = await CodeFiles.ListAsync(repo.Root, CancellationToken.None);

        Assert.True(listing.FromGit);
        var expected = repo.GitShows();
        Assert.Equal([".gitignore", "latest.py", "run.sh", "src/nested/deep/model.py", "src/secret.env", "src/untracked-too.md", "train.py", "untracked.txt"], expected);
        Assert.Equal(expected, listing.Files.Select(f => f.Path));

        using var archive = await CodeArchive.PackAsync(listing, CancellationToken.None);
        var entries = ReadEntries(archive);
        Assert.Equal(expected, entries.Where(e => e.EntryType != TarEntryType.Directory).Select(e => e.Name));
        Assert.Equal(["src/", "src/nested/", "src/nested/deep/"], entries.Where(e => e.EntryType == TarEntryType.Directory).Select(e => e.Name));
        var link = entries.Single(e => e.Name == "latest.py");
        Assert.Equal(TarEntryType.SymbolicLink, link.EntryType);
        Assert.Equal("train.py", link.LinkName);
        Assert.Equal((UnixFileMode)0b111_101_101, entries.Single(e => e.Name == "run.sh").Mode);
        Assert.Equal((UnixFileMode)0b110_100_100, entries.Single(e => e.Name == "train.py").Mode);
    }

    [Fact]
    public async Task ASubdirectoryOfAWorkTree_SendsOnlyItsFiles_RelativeToIt()
    {
        using var repo = ProjectTree.Git();
        repo.Write(".gitignore", "*.tmp\n");
        repo.Write("top.txt", "outside the chosen directory\n");
        repo.Write("app/main.py", "print(1)\n");
        repo.Write("app/lib/util.py", "u = 2\n");
        repo.Write("app/scratch.tmp", "ignored by the top .gitignore\n");
        repo.RunGit("add", "top.txt", "app/main.py");
        repo.RunGit("commit", "-q", "-m", "first");

        var listing = await CodeFiles.ListAsync(Path.Combine(repo.Root, "app"), CancellationToken.None);

        Assert.True(listing.FromGit);
        Assert.Equal(["lib/util.py", "main.py"], listing.Files.Select(f => f.Path));
        Assert.Equal(repo.GitShows("app"), listing.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task OutsideGit_EverythingIsSent_ExceptWhatLogquotaignoreExcludes()
    {
        using var tree = new ProjectTree();
        tree.Write(".logquotaignore", "# big things stay home\n*.ckpt\n/data/*\n!/data/small.csv\nwandb/\n**/__pycache__\n");
        tree.Write("train.py", "print(1)\n");
        tree.Write("model.ckpt", "x");
        tree.Write("runs/1/model.ckpt", "x");
        tree.Write("data/big.bin", "x");
        tree.Write("data/small.csv", "a,b\n");
        tree.Write("wandb/run-1/log.txt", "x");
        tree.Write("pkg/__pycache__/m.pyc", "x");
        tree.Write("pkg/m.py", "m = 1\n");
        tree.Write(".git/config", "not a repository of git's, but never sent\n");

        var listing = await CodeFiles.ListAsync(tree.Root, CancellationToken.None);

        Assert.False(listing.FromGit);
        Assert.Equal([".logquotaignore", "data/small.csv", "pkg/m.py", "train.py"], listing.Files.Select(f => f.Path));
    }

    [Fact]
    public async Task AFifo_IsNotSent_AndNeverOpened()
    {
        using var tree = new ProjectTree();
        tree.Write("a.txt", "a\n");
        tree.Write("empty.txt", "");
        using (var mkfifo = Process.Start("mkfifo", [Path.Combine(tree.Root, "pipe")]))
        {
            await mkfifo.WaitForExitAsync();
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var listing = await CodeFiles.ListAsync(tree.Root, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(["a.txt", "empty.txt"], listing.Files.Select(f => f.Path));
    }

    [Theory]
    [InlineData("link", "/mnt/datasets", true)]
    [InlineData("link", "../elsewhere", true)]
    [InlineData("sub/link", "../a.txt", false)]
    [InlineData("sub/link", "../../a.txt", true)]
    [InlineData("link", "sub/../a.txt", false)]
    [InlineData("link", "sub/../../a.txt", true)]
    [InlineData("a/b/link", "./../../c", false)]
    public void ALinkLeadsOutside_WhenAbsoluteOrUpPastTheTop(string path, string target, bool outside) =>
        Assert.Equal(outside, CodeFiles.LeadsOutside(path, target));

    [Fact]
    public async Task LinksLeadingOutside_StayHere_AndTheSummarySaysSo()
    {
        using var tree = new ProjectTree();
        tree.Write("a.txt", "a\n");
        tree.Write("sub/b.txt", "b\n");
        tree.Symlink("datasets", "/mnt/datasets");
        tree.Symlink("sub/up", "../../outside");
        tree.Symlink("sub/a", "../a.txt");

        var listing = await CodeFiles.ListAsync(tree.Root, CancellationToken.None);
        using var archive = await CodeArchive.PackAsync(listing, CancellationToken.None);

        Assert.Equal(["a.txt", "sub/a", "sub/b.txt"], listing.Files.Select(f => f.Path));
        Assert.Equal(["datasets", "sub/up"], listing.LinksLeftOut);
        Assert.EndsWith($"sha256 {archive.Sha256[..8]}, 2 links leading outside left out (datasets, sub/up)", archive.Summary(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMissingDirectory_IsAUsageError()
    {
        var missing = Path.Combine(Path.GetTempPath(), "logquota-no-such-dir-" + Guid.NewGuid().ToString("N"));

        var e = await Assert.ThrowsAsync<CliException>(() => CodeFiles.ListAsync(missing, CancellationToken.None));

        Assert.Equal($"the code directory {missing} does not exist (see --code)", e.Message);
        Assert.Equal(CliException.UsageExitCode, e.ExitCode);
    }

    /// <summary>Every entry of the archive, in order, read back with the framework's reader.</summary>
    internal static List<TarEntry> ReadEntries(CodeArchive archive)
    {
        using var stream = archive.OpenRead();
        using var gzip = new GZipStream(stream, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        var entries = new List<TarEntry>();
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            entries.Add(entry);
        }

        return entries;
    }
}
