using System.Formats.Tar;
using LogQuota.Runner.Code;
using LogQuota.Runner.Tests.Isolation;
using LogQuota.Shared.Contracts;
using static LogQuota.Runner.Tests.Code.TestArchive;

namespace LogQuota.Runner.Tests.Code;

/// <summary>
/// SPEC §9: a hostile code archive fails only its own job, executor_error, with a message naming the entry; nothing is
/// created outside the job's code directory; the runner keeps running jobs. A real runner (per-job uids under root)
/// unpacks real archives, each case its own test.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class HostileArchiveTests : IAsyncLifetime
{
    /// <summary>DSTACK_RUNNER_CODE_MAX_UNPACKED of this runner, small so that a bomb is cheap.</summary>
    private const long Limit = 16 * 1024 * 1024;

    /// <summary>Where an escape would land: open to every uid, so only the unpacker's rules can keep it empty.</summary>
    private string _sentinel = null!;

    private RunnerHost? _runner;

    public async Task InitializeAsync()
    {
        _sentinel = System.IO.Directory.CreateTempSubdirectory("logquota-sentinel-").FullName;
        Privileged.OpenToJobs(_sentinel);
        _runner = await RunnerHost.StartAsync(codeMaxUnpacked: Limit);
    }

    public async Task DisposeAsync()
    {
        if (_runner is not null)
        {
            await _runner.DisposeAsync();
        }

        System.IO.Directory.Delete(_sentinel, recursive: true);
    }

    /// <summary>Case name → the archive and what the job's termination message must say.</summary>
    private static Dictionary<string, (Func<byte[]> Archive, string[] Message)> Cases(string sentinel) => new()
    {
        ["dot-dot"] = (() => Build(Regular("../x", "out")), ["code archive entry '../x' leads outside the code directory"]),
        ["dot-dot to the sentinel"] = (
            () => Build(Regular(string.Concat(Enumerable.Repeat("../", 30)) + sentinel.TrimStart('/') + "/x", "out")),
            ["leads outside the code directory", sentinel]),
        ["dot-dot after a name"] = (() => Build(Dir("a"), Regular("a/../../x", "out")), ["'a/../../x' leads outside the code directory"]),
        ["absolute"] = (() => Build(Regular("/etc/x", "out")), ["code archive entry '/etc/x' is an absolute path"]),
        ["absolute to the sentinel"] = (() => Build(Regular(sentinel + "/x", "out")), [$"'{sentinel}/x' is an absolute path"]),
        ["symlink to / then a file through it"] = (
            () => Build(Symlink("root", "/"), Regular("root" + sentinel + "/x", "out")),
            ["code archive entry 'root' is a symlink to the absolute path '/', which leads outside the code directory"]),
        ["symlink to the sentinel"] = (() => Build(Symlink("s", sentinel), Regular("s/x", "out")), ["'s' is a symlink to the absolute path"]),
        ["symlink climbing out"] = (() => Build(Dir("a"), Symlink("a/up", "../..")), ["'a/up' is a symlink to '../..', which leads outside the code directory"]),
        ["symlink with a name before '..'"] = (
            () => Build(Symlink("here", "."), Symlink("out", "here/..")),
            ["'out' is a symlink to 'here/..', which has '..' after a name"]),
        ["a file through an earlier symlink inside"] = (
            () => Build(Dir("d"), Symlink("inside", "d"), Regular("inside/x", "through")),
            ["code archive entry 'inside/x' is written through the symlink 'inside', an earlier entry"]),
        ["hard link to /etc/shadow"] = (
            () => Build(HardLink("shadow", "/etc/shadow")),
            ["code archive entry 'shadow' is a hard link to '/etc/shadow', which is not an earlier file of the archive"]),
        ["hard link climbing out"] = (
            () => Build(HardLink("passwd", "../../../../../../etc/passwd")),
            ["'passwd' is a hard link to '../../../../../../etc/passwd', which is not an earlier file"]),
        ["fifo"] = (() => Build(Regular("ok", "fine"), Special(TarEntryType.Fifo, "pipe")), ["code archive entry 'pipe' is a fifo"]),
        ["character device"] = (() => Build(Special(TarEntryType.CharacterDevice, "mem", 1, 1)), ["code archive entry 'mem' is a character device"]),
        ["block device"] = (() => Build(Special(TarEntryType.BlockDevice, "disk", 8, 0)), ["code archive entry 'disk' is a block device"]),
        ["200,000 entries"] = (() => Build(writer =>
        {
            for (var i = 0; i < 200_000; i++)
            {
                writer.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, $"d{i / 1000:D3}/f{i:D6}"));
            }
        }), ["code archive entry 'd100/f100000' is one more than the 100000 entries a code archive may hold"]),
        ["expansion bomb"] = (
            () => Build(Regular("bomb", new byte[8 * Limit])),
            ["code archive entry 'bomb' takes the unpacked code past the limit of 16777216 bytes (DSTACK_RUNNER_CODE_MAX_UNPACKED)"]),
        ["files adding up past the limit"] = (
            () => Build(Regular("a", new byte[Limit / 2]), Regular("b", new byte[Limit / 2]), Regular("c", "1")),
            ["code archive entry 'c' takes the unpacked code past the limit"]),
        ["name not valid UTF-8"] = (() => WithRawName([.. "bad"u8, 0xff, 0xfe, .. "name"u8]), ["code archive entry 'bad\uFFFD\uFFFDname' has a name that is not valid UTF-8"]),
        ["corrupt gzip"] = (() => [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3], ["code archive is not a valid gzip'd tar"]),
        ["tar cut short"] = (
            () => Gzip(Decompress(Build(Regular("big", new byte[10_000])))[..2048]),
            ["code archive entry 'big' is"]),
    };

    public static TheoryData<string> CaseNames => [.. Cases("/sentinel").Keys];

    [SkippableTheory]
    [MemberData(nameof(CaseNames))]
    public async Task HostileArchive_FailsOnlyItsJob_NamingTheEntry_AndCreatesNothingOutside(string name)
    {
        Skip.If(name.Contains("UTF-8", StringComparison.Ordinal) && !HasPython(), "needs python3 to write a raw byte name");
        var (archive, message) = Cases(_sentinel)[name];
        var runner = _runner!;
        var sha = await PutAsync(runner, archive());

        var result = await runner.RunAsync(new JobSpec(["echo should-not-run"], CodeHash: sha), TimeSpan.FromMinutes(5));

        Assert.Equal(JobState.Failed, result.Final.State);
        Assert.Equal(TerminationReason.ExecutorError, result.Final.TerminationReason);
        foreach (var part in message)
        {
            Assert.Contains(part, result.Final.TerminationMessage, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("should-not-run", result.Text, StringComparison.Ordinal);
        Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(_sentinel));
        Assert.False(System.IO.File.Exists("/etc/x"));
        // The job's directory holds its code directory and home and nothing else: "../x" would have landed beside them.
        var root = Path.Combine(runner.WorkDir, result.JobId.ToString("N"));
        Assert.Equal(["code", "home"], System.IO.Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Order());

        // Checked once when it was put, so a refusal for names, types or sizes creates nothing; only a rule that needs
        // the tree (a path through an earlier symlink) is found while creating.
        if (name != "a file through an earlier symlink inside")
        {
            Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(Path.Combine(root, "code")));
        }

        var next = await runner.RunAsync(new JobSpec(["echo still-running"], Tty: false));
        Assert.Equal(JobState.Done, next.Final.State);
        Assert.Equal("still-running\n", next.Text);
    }

    [Fact]
    public void EveryCase_IsRefusedByTheUnpackerItself_NotOnlyByTheKernel()
    {
        // The same archives unpacked as the runner (root in CI, where the kernel would allow anything): the rules alone
        // hold. Without the raw name (python3) and the 200,000 entries (no permission is involved, only a count).
        foreach (var (name, (archive, message)) in Cases(_sentinel).Where(c => !c.Key.Contains("UTF-8", StringComparison.Ordinal) && !c.Key.Contains("200,000", StringComparison.Ordinal)))
        {
            var code = System.IO.Directory.CreateTempSubdirectory("logquota-code-").FullName;
            try
            {
                using var stream = new MemoryStream(archive());
                var error = Assert.Throws<CodeArchiveException>(() => CodeUnpacker.Unpack(stream, code, null, Limit, CancellationToken.None));
                Assert.True(message.All(m => error.Message.Contains(m, StringComparison.Ordinal)), $"{name}: {error.Message}");
                Assert.Empty(System.IO.Directory.EnumerateFileSystemEntries(_sentinel));
            }
            finally
            {
                System.IO.Directory.Delete(code, recursive: true);
            }
        }
    }

    private static byte[] Decompress(byte[] gzip)
    {
        using var input = new System.IO.Compression.GZipStream(new MemoryStream(gzip), System.IO.Compression.CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    private static bool HasPython() => System.IO.File.Exists("/usr/bin/python3") || (Environment.GetEnvironmentVariable("PATH") ?? "")
        .Split(':').Any(d => System.IO.File.Exists(Path.Combine(d, "python3")));
}
