using System.Net;

namespace LogQuota.EndToEnd.Tests;

/// <summary>
/// The built server started as a process from any working directory serves its web page whole (stylesheet, scripts,
/// icon: under the Content-Security-Policy a page without its script does nothing), and its start-up output says
/// where the page is and how to get the CLI.
/// </summary>
public sealed class StartupOutputTests
{
    private const string AdminToken = "admin-token-for-the-start-up-test";

    public static TheoryData<string> WorkingDirectories => ["/", SystemProcesses.RepositoryRoot];

    // Over 60 s beside a CPU hog (89.9 s measured in .ci/stress), with no fixed wait: per case a server with its local
    // runner starts (new database's migrations, isolation probes) logging every category at Trace as JSON, serves four
    // files, and is then stopped with SIGTERM (90 s allowed for its exit).
    [Theory]
    [MemberData(nameof(WorkingDirectories))]
    public async Task TheBuiltServer_StartedFromAnyDirectory_ServesItsStylesheetScriptsAndIcon(string workingDirectory)
    {
        await using var processes = new LoggedProcesses();
        var started = await StartAsync(processes, workingDirectory, generatedToken: true);
        using var client = started.Client;

        foreach (var (path, type) in new[] { ("/css/site.css", "text/css"), ("/js/run.js", "text/javascript"), ("/js/runs.js", "text/javascript"), ("/favicon.svg", "image/svg+xml") })
        {
            using var answer = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(answer.StatusCode == HttpStatusCode.OK, $"{path} answered {(int)answer.StatusCode} when the server was started from {workingDirectory}");
            Assert.Equal(type, answer.Content.Headers.ContentType?.MediaType);
            Assert.NotEmpty(await answer.Content.ReadAsByteArrayAsync());
        }

        await processes.StopAllAsync();
    }

    // Over 60 s beside a CPU hog (64.2 s in .ci/stress), with no fixed wait: per case a server with its local runner
    // starts (new database's migrations, isolation probes) logging every category at Trace as JSON, many more lines
    // than other tests' Warning, and is then stopped with SIGTERM (90 s allowed for its exit).
    [Theory]
    [InlineData(true, "the admin token above")]
    [InlineData(false, "DSTACK_SERVER_ADMIN_TOKEN")]
    public async Task StartUpOutput_NamesTheWebPageAtTheAddressListenedOn_AndHowToGetTheCli(bool generatedToken, string signIn)
    {
        await using var processes = new LoggedProcesses();
        var (client, port) = await StartAsync(processes, "/", generatedToken);
        client.Dispose();

        var output = await processes.StopAllAsync();

        Assert.Contains($"Web page: http://127.0.0.1:{port}/ (sign in with {signIn})", output);
        Assert.Contains("CLI: dotnet run --project src/Cli -- ps in the repository, or install logquota as a .NET tool (docs/cli.md)", output);
        var tokenLine = output.FindIndex(l => l.StartsWith("The admin token is ", StringComparison.Ordinal));
        Assert.Equal(generatedToken, tokenLine >= 0);
        Assert.True(!generatedToken || tokenLine < output.FindIndex(l => l.StartsWith("Web page: ", StringComparison.Ordinal)), "the web page's line comes after the token it refers to");
    }

    private static async Task<(HttpClient Client, int Port)> StartAsync(LoggedProcesses processes, string workingDirectory, bool generatedToken)
    {
        // The jobs' directories need others' search permission on every directory above them (per-job uids as root).
        var work = processes.TempDir();
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(work, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        var port = SystemProcesses.FreePort();
        var settings = new Dictionary<string, string>
        {
            ["DSTACK_SERVER_DIR"] = processes.TempDir(),
            ["DSTACK_RUNNER_WORK_DIR"] = Path.Combine(work, "work"),
            ["DSTACK_SERVER_PORT"] = $"{port}",
        };
        if (!generatedToken)
        {
            settings["DSTACK_SERVER_ADMIN_TOKEN"] = AdminToken;
        }

        processes.Start("Server", settings, workingDirectory);
        var baseUri = new Uri($"http://127.0.0.1:{port}");
        await processes.WaitHealthyAsync(baseUri);
        return (new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(60) }, port);
    }
}
