using LogQuota.Runner.Tests.Isolation;
using LogQuota.Shared.Contracts;
using static LogQuota.Runner.Tests.Code.TestArchive;

namespace LogQuota.Runner.Tests.Code;

/// <summary>SPEC §9: a job with code starts in its code directory, unpacked as the job's uid with its files, modes and links intact.</summary>
public sealed class CodeJobTests : IAsyncLifetime
{
    private RunnerHost _runner = null!;

    public async Task InitializeAsync() => _runner = await RunnerHost.StartAsync();

    public async Task DisposeAsync() => await _runner.DisposeAsync();

    private static byte[] Project() => Build(
        Regular("README.md", "hello from the archive\n"),
        Dir("bin"),
        Regular("bin/run.sh", "echo ran-the-script\n", (UnixFileMode)0b111_101_101),
        Regular("bin/tool", "#!/bin/sh\n", (UnixFileMode)0b100_111_101_101), // setuid
        Dir("data", (UnixFileMode)0b010_111_111_101),                 // setgid
        Regular("data/sub/deep.txt", "deep\n", (UnixFileMode)0b110_000_000),    // data/sub implied
        Dir("tmp", (UnixFileMode)0b001_111_111_111),                   // sticky
        Dir("locked", (UnixFileMode)0b101_101_101),                    // 0555: the owner keeps rwx
        Regular("./dot/x", "dot\n"),
        Regular("empty", "", (UnixFileMode)0b110_100_000),
        Symlink("link-to-readme", "README.md"),
        Symlink("data/sub/up", "../../README.md"),
        HardLink("hard", "README.md"));

    [Fact]
    public async Task GoodArchive_IsUnpackedIntact_AsTheJobsUid_AndTheJobStartsInIt()
    {
        var sha = await PutAsync(_runner, Project());
        var result = await _runner.RunAsync(new JobSpec(
        [
            "pwd",
            "cat README.md data/sub/deep.txt dot/x link-to-readme data/sub/up hard",
            "sh bin/run.sh",
            "stat -c '%n %a' README.md bin bin/run.sh bin/tool data data/sub data/sub/deep.txt tmp locked empty hard",
            "readlink link-to-readme data/sub/up",
            "stat -c '%h links' README.md",
            "echo \"owner $(stat -c %u README.md data/sub/deep.txt bin data/sub/up . | sort -u | tr '\\n' ' ')uid $(id -u)\"",
            "touch made-by-the-job && echo writable",
        ], Tty: false, CodeHash: sha));

        Assert.True(result.Final.State == JobState.Done, $"{result.Final.State}: {result.Final.TerminationMessage}\n{result.Text}");
        var lines = result.Text.Split('\n');
        Assert.Equal(Path.Combine(_runner.WorkDir, result.JobId.ToString("N"), "code"), lines[0]);
        Assert.Equal(
            [
                "hello from the archive", "deep", "dot", "hello from the archive", "hello from the archive", "hello from the archive",
                "ran-the-script",
                "README.md 644", "bin 755", "bin/run.sh 755", "bin/tool 755", "data 775", "data/sub 755", "data/sub/deep.txt 600",
                "tmp 777", "locked 755", "empty 640", "hard 644",
                "README.md", "../../README.md",
                "2 links",
            ],
            lines[1..22]);

        // Every file the job got is its own uid's: under root a uid of its own, else the runner's.
        var owner = lines[22].Split(' ');
        Assert.Equal("owner", owner[0]);
        Assert.Equal("uid", owner[2]);
        Assert.Equal(owner[3], owner[1]);
        if (Privileged.IsRoot)
        {
            Assert.NotEqual("0", owner[3]);
        }

        Assert.Equal("writable", lines[23]);
    }

    [Fact]
    public async Task WorkingDir_OverridesTheCodeDirectory_WhichIsStillUnpacked()
    {
        var sha = await PutAsync(_runner, Project());
        var elsewhere = System.IO.Directory.CreateTempSubdirectory("logquota-workdir-").FullName;
        try
        {
            Privileged.OpenToJobs(elsewhere);
            var result = await _runner.RunAsync(new JobSpec(["pwd", "cat $HOME/../code/README.md"], WorkingDir: elsewhere, Tty: false, CodeHash: sha));
            Assert.Equal(JobState.Done, result.Final.State);
            Assert.Equal($"{elsewhere}\nhello from the archive\n", result.Text);
        }
        finally
        {
            System.IO.Directory.Delete(elsewhere, recursive: true);
        }
    }

    [Fact]
    public async Task AStop_RightAfterTheSubmit_EndsTheJobTerminated_WhetherItsCodeWasStillUnpackingOrNot()
    {
        // 20,000 files: long enough to unpack that the stop usually lands during it (JobPreparationTests covers that
        // case deterministically); either way the stop is not lost and its reason is the job's end.
        var sha = await PutAsync(_runner, Build(writer =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                writer.WriteEntry(new System.Formats.Tar.UstarTarEntry(System.Formats.Tar.TarEntryType.RegularFile, $"d{i / 500}/f{i}"));
            }
        }));
        var jobId = Guid.NewGuid();
        await _runner.Api.SubmitAsync(new SubmitBody(jobId, new RunRef(Guid.NewGuid(), "stopped"), new JobSpec(["echo started; sleep 600"], CodeHash: sha)), CancellationToken.None);
        await _runner.Api.StopAsync(jobId, new StopBody(TerminationReason.TerminatedByUser, "changed my mind"), CancellationToken.None);

        var result = await _runner.PullToEndAsync(jobId, TimeSpan.FromMinutes(2));
        Assert.Equal(JobState.Terminated, result.Final.State);
        Assert.Equal(TerminationReason.TerminatedByUser, result.Final.TerminationReason);
        Assert.Equal("changed my mind", result.Final.TerminationMessage);
        if (!result.States.Exists(s => s.State == JobState.Running))
        {
            Assert.Empty(result.Logs);
        }
    }
}
