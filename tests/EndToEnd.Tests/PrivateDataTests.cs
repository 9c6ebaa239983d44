using System.Text;
using LogQuota.Shared.Contracts;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// SPEC §7, private data: the server's directory is 0700 and its files 0600 whatever existed before, so a job under
/// its own uid cannot read the database (other runs' output, commands and env values) from the file.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PrivateDataTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-private-");

    public void Dispose() => _dir.Delete(recursive: true);

    // Over 60 s beside a CPU hog (71.6 s measured in .ci/stress), with no fixed wait: a server with its local runner
    // starts under root (the new database's migrations, the runner's isolation probes, which start real jobs), then
    // two jobs run one after the other, each under a uid of its own.
    [SkippableFact]
    public async Task APreExisting0755ServerDirectory_IsMadePrivate_AndAJobCannotOpenTheDatabaseOrItsWal()
    {
        Skip.If(Environment.UserName != "root", "needs root: the local runner gives each job a uid of its own only under root");
        var serverDir = Path.Combine(_dir.FullName, "server");
        Directory.CreateDirectory(serverDir);
        File.SetUnixFileMode(_dir.FullName, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(serverDir, (UnixFileMode)0b111_101_101);
        await using var system = await SystemProcesses.StartAsync(runners: 0, serverSettings: new() { ["DSTACK_SERVER_DIR"] = serverDir });

        await system.SubmitAsync(new SubmitRunRequest(
            ["echo secret-value-of-another-run", "sleep 1"], RunName: "victim", Env: new Dictionary<string, string> { ["HF_TOKEN"] = "hf_secret" }));
        await system.WaitFinishedAsync("victim");
        var db = Path.Combine(serverDir, "server.db");
        await system.SubmitAsync(new SubmitRunRequest(
            [$"for f in {db} {db}-wal {db}-shm; do cat $f >/dev/null 2>&1 && echo \"read $f\" || echo \"refused $f\"; done; grep -c hf_secret {db} 2>&1 || true"],
            RunName: "thief"));
        var thief = await system.WaitFinishedAsync("thief");

        var text = Encoding.UTF8.GetString(await system.LogTextAsync("thief"));
        Assert.Equal(RunStatus.Done, thief.Status);
        Assert.Contains($"refused {db}\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("read ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("hf_secret", text, StringComparison.Ordinal);
        Assert.Equal("700", Octal(serverDir));
        Assert.All(new[] { db, db + "-wal", "admin-token" }.Select(f => Path.Combine(serverDir, f)).Where(File.Exists),
            f => Assert.Equal("600", Octal(f)));
    }

    [Fact]
    public async Task AServerDirectoryOthersMayWrite_IsRefused_WithOneLine()
    {
        var serverDir = Path.Combine(_dir.FullName, "server");
        Directory.CreateDirectory(serverDir);
        File.SetUnixFileMode(serverDir, (UnixFileMode)0b111_111_111);

        var server = await ExitedProcess.RunAsync("Server", new()
        {
            ["DSTACK_SERVER_DIR"] = serverDir,
            ["DSTACK_SERVER_PORT"] = $"{SystemProcesses.FreePort()}",
            ["DSTACK_SERVER_ADMIN_TOKEN"] = SystemProcesses.AdminToken,
        });

        server.AssertOneLine(1, "DSTACK_SERVER_DIR", serverDir, "writable by other users (mode 777)");
    }

    [Fact]
    public async Task ARunnerDirectoryOthersMayWrite_IsRefused_WithOneLine()
    {
        var runnerDir = Path.Combine(_dir.FullName, "runner");
        Directory.CreateDirectory(runnerDir);
        File.SetUnixFileMode(runnerDir, (UnixFileMode)0b111_111_101);

        var runner = await ExitedProcess.RunAsync("Runner", new()
        {
            ["DSTACK_RUNNER_DIR"] = runnerDir,
            ["DSTACK_RUNNER_PORT"] = $"{SystemProcesses.FreePort()}",
        });

        runner.AssertOneLine(2, "DSTACK_RUNNER_DIR", runnerDir, "writable by other users (mode 775)");
    }

    private static string Octal(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);
}
