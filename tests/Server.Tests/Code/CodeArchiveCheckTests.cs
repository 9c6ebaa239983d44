using LogQuota.Server.Code;
using LogQuota.Server.Tests.Infrastructure;

namespace LogQuota.Server.Tests.Code;

/// <summary>The upload check's bounds: a gzip'd tar is walked only so far, whatever it expands to.</summary>
public sealed class CodeArchiveCheckTests
{
    [Fact]
    public async Task ATreeWithinTheBounds_IsAGzippedTar() =>
        Assert.Null(await ProblemAsync(TestArchives.Project(), maxUnpackedBytes: 64 << 10, maxEntries: 2));

    [Fact]
    public async Task MoreEntriesThanTheBound_AreRefused()
    {
        var archive = TestArchives.Create([.. Enumerable.Range(0, 5).Select(i => ($"f{i}.txt", "x"u8.ToArray()))]);
        Assert.Equal("The archive holds more than 4 entries.", await ProblemAsync(archive, maxUnpackedBytes: 1 << 20, maxEntries: 4));
    }

    /// <summary>8 MiB of zeros gzip to under 128 KiB: the walk stops at the bound instead of inflating it all.</summary>
    [Fact]
    public async Task AnExpansionPastTheBound_IsRefused()
    {
        var bomb = TestArchives.Create(("zeros", new byte[8 << 20]));
        Assert.True(bomb.Length < 128 << 10, $"{bomb.Length} bytes");
        Assert.Equal("The archive unpacks to more than 1048576 bytes.", await ProblemAsync(bomb, maxUnpackedBytes: 1 << 20, maxEntries: 10));
    }

    private static async Task<string?> ProblemAsync(byte[] archive, long maxUnpackedBytes, int maxEntries)
    {
        using var stream = new MemoryStream(archive);
        return await CodeArchiveCheck.ProblemAsync(stream, maxUnpackedBytes, maxEntries, CancellationToken.None);
    }
}
