using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using LogQuota.Cli.Code;
using LogQuota.Cli.Tests.Infrastructure;

namespace LogQuota.Cli.Tests.Code;

/// <summary>The gzip'd tar of the code: reproducible bytes, the hash of those bytes, readable by GNU tar.</summary>
public sealed class CodeArchiveTests
{
    [Fact]
    public async Task TheSameTree_GivesTheSameBytesAndHash_WhateverItsTimesAndWhereItLies()
    {
        using var first = Sample(new ProjectTree());
        using var second = Sample(new ProjectTree());
        foreach (var file in Directory.EnumerateFiles(second.Root, "*", SearchOption.AllDirectories))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddDays(-3));
        }

        using var a = await PackAsync(first.Root);
        using var again = await PackAsync(first.Root);
        using var b = await PackAsync(second.Root);

        Assert.Equal(a.Sha256, again.Sha256);
        Assert.Equal(a.Sha256, b.Sha256);
        Assert.Equal(await BytesAsync(a), await BytesAsync(b));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await BytesAsync(a))), a.Sha256);
        Assert.Matches("^[0-9a-f]{64}$", a.Sha256);

        second.Write("train.py", "print('changed')\n");
        using var changed = await PackAsync(second.Root);
        Assert.NotEqual(a.Sha256, changed.Sha256);
    }

    [Fact]
    public async Task Entries_HaveNoOwner_OneTime_AndTheFilesBytes()
    {
        using var tree = Sample(new ProjectTree());

        using var archive = await PackAsync(tree.Root);

        var entries = CodeFilesTests.ReadEntries(archive);
        Assert.All(entries, e =>
        {
            Assert.Equal(0, e.Uid);
            Assert.Equal(0, e.Gid);
            var gnu = Assert.IsType<GnuTarEntry>(e);
            Assert.Equal("", gnu.UserName);
            Assert.Equal("", gnu.GroupName);
            Assert.Equal(entries[0].ModificationTime, e.ModificationTime);
        });
        var data = entries.Single(e => e.Name == "data/numbers.csv");
        using var reader = new StreamReader(data.DataStream!);
        Assert.Equal("1,2,3\n", await reader.ReadToEndAsync());
        var longName = entries.Single(e => e.Name.StartsWith("deep/", StringComparison.Ordinal) && e.EntryType == TarEntryType.RegularFile);
        Assert.Equal(LongPath, longName.Name);
        Assert.Contains(entries, e => e.Name == "données/é.txt");
    }

    [Fact]
    public async Task GnuTar_ExtractsTheSameTree()
    {
        using var tree = Sample(new ProjectTree());
        using var archive = await PackAsync(tree.Root);
        using var target = new ProjectTree();
        var path = Path.Combine(target.Root, "code.tar.gz");
        await File.WriteAllBytesAsync(path, await BytesAsync(archive));
        var into = Directory.CreateDirectory(Path.Combine(target.Root, "out")).FullName;

        using (var tar = Process.Start("tar", ["-xzf", path, "-C", into]))
        {
            await tar.WaitForExitAsync();
            Assert.Equal(0, tar.ExitCode);
        }

        foreach (var file in archive.Listing.Files)
        {
            var extracted = new FileInfo(Path.Combine(into, file.Path));
            if (file.LinkTarget is { } target2)
            {
                Assert.Equal(target2, extracted.LinkTarget);
                continue;
            }

            Assert.Equal(await File.ReadAllBytesAsync(file.FullPath), await File.ReadAllBytesAsync(extracted.FullName));
            Assert.Equal(file.Executable, (extracted.UnixFileMode & UnixFileMode.UserExecute) != 0);
        }
    }

    [Fact]
    public async Task Summary_NamesFilesBytesCompressedAndAShortHash_AndLargestFilesComeFirst()
    {
        using var tree = new ProjectTree();
        tree.WriteRandom("weights/big.bin", 3 << 20);
        tree.WriteRandom("mid.bin", 2048);
        tree.Write("small.txt", "x");
        tree.Write("tiny.txt", "");

        using var archive = await PackAsync(tree.Root);

        var summary = archive.Summary();
        Assert.Matches(@"^code: 4 files, 3\.0MiB \(3\.0MiB compressed\), sha256 [0-9a-f]{8}$", summary);
        Assert.EndsWith(archive.Sha256[..8], summary, StringComparison.Ordinal);
        Assert.Equal("weights/big.bin 3.0MiB, mid.bin 2.0KiB, small.txt 1B", archive.LargestFiles());
    }

    [Fact]
    public async Task AFileThatGrowsOrShrinksAfterTheListing_IsPackedAtItsListedLength_AndTheArchiveStaysWhole()
    {
        using var tree = new ProjectTree();
        tree.Write("growing.log", "0123456789");
        tree.Write("shrinking.log", "abcdefghij");
        tree.Write("z-after.txt", "after\n");
        var listing = await CodeFiles.ListAsync(tree.Root, CancellationToken.None);
        tree.Write("growing.log", "0123456789 and a lot more written while packing");
        tree.Write("shrinking.log", "abc");

        using var archive = await CodeArchive.PackAsync(listing, CancellationToken.None);

        var entries = CodeFilesTests.ReadEntries(archive);
        Assert.Equal(["growing.log", "shrinking.log", "z-after.txt"], entries.Select(e => e.Name));
        Assert.Equal("0123456789", await new StreamReader(entries[0].DataStream!).ReadToEndAsync());
        Assert.Equal("abc\0\0\0\0\0\0\0", await new StreamReader(entries[1].DataStream!).ReadToEndAsync());
        Assert.Equal("after\n", await new StreamReader(entries[2].DataStream!).ReadToEndAsync());
    }

    [Fact]
    public async Task TheTemporaryFile_IsGoneOnceDisposed()
    {
        using var tree = Sample(new ProjectTree());

        var archive = await PackAsync(tree.Root);
        var path = archive.FilePath;
        Assert.True(File.Exists(path));
        archive.Dispose();

        Assert.False(File.Exists(path));
    }

    private static readonly string LongPath = "deep/" + string.Join('/', Enumerable.Repeat("a-rather-long-directory-name", 6)) + "/file.txt";

    private static ProjectTree Sample(ProjectTree tree)
    {
        tree.Write("train.py", "print('hi')\n");
        tree.Write("data/numbers.csv", "1,2,3\n");
        tree.Write("run.sh", "#!/bin/sh\n");
        tree.MakeExecutable("run.sh");
        tree.Symlink("latest", "data/numbers.csv");
        tree.Write(LongPath, "long\n");
        tree.Write("données/é.txt", "utf-8 names\n");
        return tree;
    }

    private static async Task<CodeArchive> PackAsync(string root) =>
        await CodeArchive.PackAsync(await CodeFiles.ListAsync(root, CancellationToken.None), CancellationToken.None);

    private static async Task<byte[]> BytesAsync(CodeArchive archive)
    {
        await using var stream = archive.OpenRead();
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }
}
