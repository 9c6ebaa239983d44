using System.Diagnostics;
using LogQuota.EndToEnd.Tests.Compose;
using LogQuota.Shared.Contracts;
using static LogQuota.EndToEnd.Tests.Compose.ComposeRuns;

namespace LogQuota.EndToEnd.Tests;

public sealed partial class DockerComposeStackTests
{
    /// <summary>The base <c>docker-compose.python.yml</c> builds the runners on; the test pulls nothing, so it must be on the engine.</summary>
    private const string PythonBase = "python:3.12-slim";

    /// <summary>
    /// <c>docker-compose.python.yml</c> over the running stack: the runner image built again on <c>python:3.12-slim</c>
    /// (the self-contained runner; the base has no .NET), both runners recreated from it under the same server, and a
    /// Python job submitted through the server: it runs under a uid of its own, and its output is in the stored log.
    /// </summary>
    private async Task PythonRunners(ComposeProject stack, CancellationToken ct)
    {
        stack.AddFile("docker-compose.python.yml");
        var build = Stopwatch.StartNew();
        await stack.ComposeAsync(TimeSpan.FromMinutes(10), ct, "build", "runner-1");
        log.WriteLine($"docker compose build runner-1 on {PythonBase}: {build.Elapsed.TotalSeconds:0.0} s");
        await stack.UpAsync([], ["--no-deps", "runner-1", "runner-2"], ct);

        foreach (var runner in new[] { "runner-1", "runner-2" })
        {
            var id = (await stack.ComposeAsync(TimeSpan.FromSeconds(30), ct, "ps", "-q", runner)).Stdout.Trim();
            var image = await Command.RunAsync("docker", ["inspect", "--format", "{{.Config.Image}}", id], TimeSpan.FromSeconds(30), ct: ct);
            Assert.Equal(stack.PythonRunnerImage, image.EnsureSuccess().Stdout.Trim());
            var isolation = (await stack.RunnerHealthAsync(runner, ct)).GetProperty("isolation");
            Assert.Equal("per_job", isolation.GetProperty("users").GetString());
        }

        using var server = stack.ServerClient();
        await Submit(server, new SubmitRunRequest(
            ["""python3 -c 'import os, platform; print("python", platform.python_version(), "uid", os.getuid())'""", "command -v dotnet || echo no dotnet"],
            RunName: "python"), ct);
        var run = await WaitFinished(server, "python", ct);
        var text = await LogText(server, "python", ct);
        Assert.True(run.Status == RunStatus.Done, $"the Python job ended {run.Status} ({run.StatusMessage}, {run.Error}); its log:\n{text}");
        Assert.Matches(@"^python 3\.\d+\.\d+ uid 2\d{5}\nno dotnet\n$", text);
    }
}
