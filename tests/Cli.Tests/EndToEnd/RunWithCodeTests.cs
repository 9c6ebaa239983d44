using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using LogQuota.Cli.Code;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>
/// <c>cd project &amp;&amp; logquota run -- python3 train.py</c> against the built server with its local runner (SPEC §9):
/// the code git would show reaches the job, which starts in it, can write its home, and keeps a checkpoint there while
/// it runs; the same tree is uploaded once. As root (each job its own uid) and as an unprivileged server.
/// </summary>
public sealed partial class RunWithCodeTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromSeconds(120);

    private const string TrainPy = """
        import os, pathlib, subprocess, time
        print(open("data/numbers.csv").read().strip())
        print("files: " + " ".join(sorted(os.listdir("."))))
        home = pathlib.Path.home()
        (home / ".cache").mkdir(parents=True, exist_ok=True)
        (home / ".cache" / "x").write_text("cached")
        print("cache: " + (home / ".cache" / "x").read_text())
        print("cd ~: " + subprocess.run(["sh", "-c", "cd ~ && pwd"], capture_output=True, text=True).stdout.strip())
        print("home: " + str(home))
        pathlib.Path("checkpoint.pt").write_text("epoch 1")
        print("checkpoint in " + os.getcwd(), flush=True)
        deadline = time.time() + 110
        while not os.path.exists("release") and time.time() < deadline:
            time.sleep(0.1)
        print("released" if os.path.exists("release") else "never released")
        """;

    // Over 60 s beside a CPU hog (100.8 s measured in .ci/stress), with no fixed wait: per case a server with its local
    // runner starts (migrations, isolation probes), the project gets a 50 MiB random file the upload must leave out,
    // and two CLI processes each run a job, the first packing, uploading and unpacking the code for a python3 job.
    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task GitProject_RunsInItsCode_WithAWritableHome_AndACheckpointThatStays_AndIsUploadedOnce(bool asNobody)
    {
        var unavailable = BuiltServer.Unavailable(asNobody);
        Skip.If(unavailable is not null, unavailable);
        Skip.If(!File.Exists("/usr/bin/python3"), "needs /usr/bin/python3, which every job uid can run");
        await using var server = await BuiltServer.StartAsync(asNobody);
        using var repo = ProjectTree.Git();
        repo.Write(".gitignore", "*.bin\n");
        repo.Write("train.py", TrainPy);
        repo.Write("data/numbers.csv", "1,2,3");
        repo.WriteRandom("weights.bin", 50L << 20);
        repo.RunGit("add", "-A");
        repo.RunGit("commit", "-q", "-m", "project");
        repo.Write("untracked.txt", "not committed, not ignored\n");

        using var cli = new CliProcess(server.CliEnvironment, currentDirectory: repo.Root);
        cli.Start("run", "--name", "code-first", "--", "python3", "train.py");
        var released = false;
        await cli.WaitForOutputAsync("\nreleased", JobTimeout, whileWaiting: async text =>
        {
            // Once released, the job ends and its directory is deleted: it is looked at before that, once.
            if (!released && CheckpointLine().Match(text) is { Success: true } match)
            {
                released = true;
                // Seen from outside while the job runs: the checkpoint is in its directory, the ignored file never was.
                var dir = match.Groups["dir"].Value;
                Assert.Equal("epoch 1", await File.ReadAllTextAsync(Path.Combine(dir, "checkpoint.pt")));
                Assert.False(File.Exists(Path.Combine(dir, "weights.bin")), "the ignored file reached the runner");
                await File.WriteAllTextAsync(Path.Combine(dir, "release"), "");
            }
        });
        var first = await cli.WaitAsync(JobTimeout);

        Assert.True(first.ExitCode == 0, $"{first}\n--- server\n{server.Output}");
        var lines = first.StdoutText.Split('\n');
        Assert.Equal("1,2,3", lines[0].TrimEnd('\r'));
        Assert.Equal("files: .gitignore data train.py untracked.txt", lines[1].TrimEnd('\r'));
        Assert.Equal("cache: cached", lines[2].TrimEnd('\r'));
        var home = lines.Single(l => l.StartsWith("home: ", StringComparison.Ordinal))["home: ".Length..].TrimEnd('\r');
        Assert.Equal($"cd ~: {home}", lines[3].TrimEnd('\r'));

        var hash = await ExpectedHashAsync(repo.Root);
        Assert.Matches($@"^code: 4 files, [0-9.]+(B|KiB) \([0-9.]+(B|KiB) compressed\), sha256 {hash[..8]}, uploaded$", first.StderrLines[0]);
        using var admin = server.CreateAdminHttpClient();
        var run = await admin.GetFromJsonAsync<RunDetails>(new Uri("/api/runs/code-first", UriKind.Relative), LogQuotaJson.Options);
        Assert.Equal(hash, run!.Jobs[0].JobSpec.CodeHash);
        using (var head = new HttpRequestMessage(HttpMethod.Head, new Uri($"/api/code/{hash}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.SendAsync(head)).StatusCode);
        }

        // The same tree again: HEAD finds it, nothing is uploaded.
        var second = await CliProcess.RunInAsync(server.CliEnvironment, repo.Root, "run", "--name", "code-again", "--", "cat data/numbers.csv; ls");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.EndsWith($"sha256 {hash[..8]}, already on the server", second.StderrLines[0], StringComparison.Ordinal);
        Assert.StartsWith("1,2,3", second.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain("checkpoint.pt", second.StdoutText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task CodeDir_AndRelativeWorkingDir_ReachTheSubmitBody_AndTheJobStartsThere()
    {
        var unavailable = BuiltServer.Unavailable(asNobody: false);
        Skip.If(unavailable is not null, unavailable);
        await using var server = await BuiltServer.StartAsync(asNobody: false);
        using var elsewhere = new ProjectTree();
        elsewhere.Write("job.sh", "echo from elsewhere\n");
        using var here = new ProjectTree();
        here.Write("unrelated.txt", "must not be sent\n");

        var result = await CliProcess.RunInAsync(server.CliEnvironment, here.Root,
            "run", "--name", "code-dir", "--no-tty", "--code", elsewhere.Root, "--working-dir", "out/run1", "--", "pwd; sh ../../job.sh; ls ../..");

        Assert.True(result.ExitCode == 0, $"{result}\n--- server\n{server.Output}");
        var lines = result.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.EndsWith("/out/run1", lines[0], StringComparison.Ordinal);
        Assert.Equal(["from elsewhere", "job.sh", "out"], lines[1..]);
        using var admin = server.CreateAdminHttpClient();
        var spec = (await admin.GetFromJsonAsync<RunDetails>(new Uri("/api/runs/code-dir", UriKind.Relative), LogQuotaJson.Options))!.Jobs[0].JobSpec;
        Assert.Equal("out/run1", spec.WorkingDir);
        Assert.Equal(await ExpectedHashAsync(elsewhere.Root), spec.CodeHash);
    }

    [SkippableFact]
    public async Task CodeAboveTheServersLimit_IsRefusedInOneLine_NamingTheLargestFiles()
    {
        var unavailable = BuiltServer.Unavailable(asNobody: false);
        Skip.If(unavailable is not null, unavailable);
        await using var server = await BuiltServer.StartAsync(asNobody: false, new Dictionary<string, string> { ["DSTACK_SERVER_CODE_MAX_BYTES"] = "1048576" });
        using var tree = new ProjectTree();
        tree.WriteRandom("data/big.bin", 2 << 20);
        tree.WriteRandom("model.pt", 600 << 10);
        tree.Write("train.py", "print(1)\n");

        var result = await CliProcess.RunInAsync(server.CliEnvironment, tree.Root, "run", "--name", "code-too-big", "--", "true");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal(2, result.StderrLines.Length);
        Assert.StartsWith("code: 3 files, ", result.StderrLines[0], StringComparison.Ordinal);
        var line = result.StderrLines[1];
        Assert.StartsWith("error: the code is ", line, StringComparison.Ordinal);
        Assert.Contains("above the server's limit of 1.0MiB", line, StringComparison.Ordinal);
        Assert.Contains("largest files: data/big.bin 2.0MiB, model.pt 600.0KiB, train.py 9B;", line, StringComparison.Ordinal);
        Assert.Contains("--no-code", line, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [SkippableFact]
    public async Task UploadsOffOnTheServer_IsOneClearLine_AndNoCodeStillRuns()
    {
        var unavailable = BuiltServer.Unavailable(asNobody: false);
        Skip.If(unavailable is not null, unavailable);
        await using var server = await BuiltServer.StartAsync(asNobody: false, new Dictionary<string, string> { ["DSTACK_SERVER_CODE_MAX_BYTES"] = "0" });
        using var tree = new ProjectTree();
        tree.Write("train.py", "print(1)\n");

        var refused = await CliProcess.RunInAsync(server.CliEnvironment, tree.Root, "run", "--name", "code-off", "--", "true");
        var without = await CliProcess.RunInAsync(server.CliEnvironment, tree.Root, "run", "--name", "code-none", "--no-code", "--", "echo ran");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Equal(
            "error: this server does not take code uploads (DSTACK_SERVER_CODE_MAX_BYTES=0 there): run with --no-code, or ask its operator to allow them",
            refused.StderrLines[^1]);
        Assert.True(without.ExitCode == 0, without.ToString());
        Assert.Equal("ran\n", without.StdoutText.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    private static async Task<string> ExpectedHashAsync(string root)
    {
        using var archive = await CodeArchive.PackAsync(await CodeFiles.ListAsync(root, CancellationToken.None), CancellationToken.None);
        return archive.Sha256;
    }

    [GeneratedRegex(@"checkpoint in (?<dir>/[^\r\n]+)\r?\n")]
    private static partial Regex CheckpointLine();
}
