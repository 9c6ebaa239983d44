using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Runner;
using LogQuota.Runner.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary><c>logquota runners</c> (list, add, drain, remove) against the real server and a real runner that joins it.</summary>
public sealed class RunnersCommandTests
{
    private const string RunnerToken = "cli-test-runner-token-0123456";

    [Fact]
    public async Task Runners_ListsAddsDrainsAndRemoves_AndSaysWhyInOneLine_WhenItCannot()
    {
        var runnerDir = Directory.CreateTempSubdirectory("logquota-cli-runner-").FullName;
        try
        {
            await using var server = new LocalServer(new Dictionary<string, string>
            {
                ["DSTACK_RUNNER_TOKEN"] = RunnerToken,
                ["DSTACK_RUNNER_MAX_JOBS"] = "4",
            });
            await ((IAsyncLifetime)server).InitializeAsync();
            await using var runner = RunnerApplication.Build(
                new RunnerSettings { Port = 0, Dir = runnerDir, WorkDir = runnerDir + "-work", Token = RunnerToken, MaxJobs = 2, DrainPeriod = TimeSpan.Zero },
                builder => builder.Logging.ClearProviders());
            await runner.StartAsync();
            await ListAddDrainRemoveAsync(server, runner.Urls.First().TrimEnd('/') + "/");
            await runner.StopAsync();
        }
        finally
        {
            foreach (var dir in new[] { runnerDir, runnerDir + "-work" }.Where(Directory.Exists))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static async Task ListAddDrainRemoveAsync(LocalServer server, string runnerUrl)
    {
        Task<CliResult> Cli(params string[] args) => CliProcess.RunAsync(server.CliEnvironment, args);
        var list = await Cli("runners");
        Assert.True(list.ExitCode == 0, list.ToString());
        var lines = list.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME", "URL", "STATE", "JOBS", "ISOLATION"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"^local\s+http://127\.0\.0\.1:\d+/\s+active\s+0/4\s+\S", Assert.Single(lines[1..]));

        var added = await Cli("runners", "add", runnerUrl, "--name", "gpu-a");
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Equal($"added runner gpu-a at {runnerUrl} (capacity 2 jobs)\n", added.StdoutText);

        // The same runner under another spelling of its address is the same runner.
        var again = await Cli("runners", "add", runnerUrl.Replace("127.0.0.1", "localhost", StringComparison.Ordinal));
        Assert.Equal(1, again.ExitCode);
        Assert.StartsWith("error: That runner is already added, as 'gpu-a'", Assert.Single(again.StderrLines), StringComparison.Ordinal);

        var nobody = await Cli("runners", "add", "http://127.0.0.1:9");
        Assert.Equal(1, nobody.ExitCode);
        Assert.StartsWith("error: The runner was not added: http://127.0.0.1:9/ did not answer", Assert.Single(nobody.StderrLines), StringComparison.Ordinal);

        var drained = await Cli("runners", "drain", "gpu-a");
        Assert.True(drained.ExitCode == 0, drained.ToString());
        Assert.Equal("runner gpu-a is draining: no new job goes to it; it holds 0 jobs\n", drained.StdoutText);
        Assert.Matches(@"(?m)^gpu-a\s+http://127\.0\.0\.1:\d+/\s+draining\s+0/2\s", (await Cli("runners")).StdoutText);

        var unknown = await Cli("runners", "remove", "nobody");
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal(["error: no runner named nobody; logquota runners lists them"], unknown.StderrLines);

        var local = await Cli("runners", "remove", "local");
        Assert.Equal(1, local.ExitCode);
        Assert.Contains("lives and dies with this server process", Assert.Single(local.StderrLines), StringComparison.Ordinal);

        var removed = await Cli("runners", "remove", "gpu-a");
        Assert.True(removed.ExitCode == 0, removed.ToString());
        Assert.Equal("removed runner gpu-a\n", removed.StdoutText);
        Assert.DoesNotContain("gpu-a", (await Cli("runners")).StdoutText, StringComparison.Ordinal);

        var usage = await Cli("runners", "add");
        Assert.Equal(2, usage.ExitCode);
        Assert.Single(usage.StderrLines);
    }
}
