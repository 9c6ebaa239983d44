using System.Net;
using System.Net.Http.Json;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary><c>--project</c> and <c>DSTACK_PROJECT</c> against the real server, with a user's own token.</summary>
[Collection(LocalServerGroup.Name)]
public sealed class ProjectOptionTests(LocalServer server)
{
    [Fact]
    public async Task EveryRunCommand_WorksInTheProjectNamed_ByOptionOrVariable_AndTheOptionWins()
    {
        using var admin = server.CreateAdminHttpClient();
        string token;
        using (var created = await admin.PostAsJsonAsync(new Uri("/api/users", UriKind.Relative), new CreateUserRequest("carol", GlobalRole.User), LogQuotaJson.Options))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            token = (await created.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token;
        }

        using (var carol = new HttpClient { BaseAddress = server.Url })
        {
            carol.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var project = await carol.PostAsJsonAsync(new Uri("/api/projects", UriKind.Relative), new CreateProjectRequest("vision"), LogQuotaJson.Options);
            Assert.Equal(HttpStatusCode.Created, project.StatusCode);
        }

        // The same run name in main (the admin's) and in vision (carol's).
        Assert.Equal(0, (await Cli(null, "run", "--name", "proj-same", "--no-code", "--", "echo in-main")).ExitCode);
        var inVision = await Cli(token, "run", "--project", "vision", "--name", "proj-same", "--no-code", "--", "echo in-vision");
        Assert.True(inVision.ExitCode == 0, inVision.ToString());
        Assert.Contains("in-vision", inVision.StdoutText, StringComparison.Ordinal);

        var logs = await Cli(token, new Dictionary<string, string> { ["DSTACK_PROJECT"] = "vision" }, "logs", "proj-same");
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal("in-vision\n", logs.StdoutText);
        var ps = await Cli(token, new Dictionary<string, string> { ["DSTACK_PROJECT"] = "vision" }, "ps", "-a");
        Assert.Equal(["proj-same"], ps.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(' ')[0]));
        Assert.Equal("in-main\n", (await Cli(null, new Dictionary<string, string> { ["DSTACK_PROJECT"] = "vision" }, "logs", "--project", "main", "proj-same")).StdoutText);

        // carol is in no project named main, nor in one she does not belong to: the server's words, one line.
        var notHers = await Cli(token, "logs", "proj-same");
        Assert.NotEqual(0, notHers.ExitCode);
        Assert.Equal(["error: You are a member of no project named 'main'."], notHers.StderrLines);
        var unknown = await Cli(token, "ps", "--project", "nowhere");
        Assert.Equal(["error: You are a member of no project named 'nowhere'."], unknown.StderrLines);

        Assert.Equal(0, (await Cli(token, "show", "--project", "vision", "proj-same")).ExitCode);
        Assert.Equal(0, (await Cli(token, "stop", "--project", "vision", "proj-same")).ExitCode);
        var deleted = await Cli(token, "delete", "--project", "vision", "proj-same");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(["error: run proj-same not found"], (await Cli(token, "show", "--project", "vision", "proj-same")).StderrLines);
        Assert.Equal(0, (await Cli(null, "delete", "proj-same")).ExitCode);
    }

    private Task<CliResult> Cli(string? token, params string[] args) => Cli(token, new Dictionary<string, string>(), args);

    private Task<CliResult> Cli(string? token, Dictionary<string, string> extra, params string[] args)
    {
        var environment = new Dictionary<string, string>(server.CliEnvironment);
        if (token is not null)
        {
            environment["DSTACK_TOKEN"] = token;
        }

        foreach (var (key, value) in extra)
        {
            environment[key] = value;
        }

        return CliProcess.RunAsync(environment, args);
    }
}
