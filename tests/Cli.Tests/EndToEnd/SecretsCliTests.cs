using System.Net;
using System.Net.Http.Json;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary><c>run --secret</c> against the real server: the job gets the value, and what <c>run</c> and <c>logs</c> print shows <c>***</c>.</summary>
[Collection(LocalServerGroup.Name)]
public sealed class SecretsCliTests(LocalServer server)
{
    [Fact]
    public async Task Run_WithASecret_PrintsStars_AndLogsToo_AndAnUnknownSecretIsOneLine()
    {
        var secret = "hf_" + new string([.. Enumerable.Range(0, 37).Select(_ => (char)('g' + Random.Shared.Next(20)))]);
        using (var admin = server.CreateAdminHttpClient())
        using (var set = await admin.PutAsJsonAsync(new Uri("/api/projects/main/secrets/CLI_SECRET", UriKind.Relative), new SetSecretRequest(secret), LogQuotaJson.Options))
        {
            Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        }

        var run = await CliProcess.RunAsync(server.CliEnvironment,
            "run", "--name", "cli-secret", "--no-code", "--secret", "CLI_SECRET", "--", """printf 'key %s\n' "$CLI_SECRET"; [ ${#CLI_SECRET} -eq 40 ] && echo forty""");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("key ***\nforty\n", run.StdoutText, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, run.StdoutText + run.Stderr, StringComparison.Ordinal);

        var logs = await CliProcess.RunAsync(server.CliEnvironment, "logs", "cli-secret");
        Assert.True(logs.ExitCode == 0, logs.ToString());
        Assert.Equal("key ***\nforty\n", logs.StdoutText);

        var unknown = await CliProcess.RunAsync(server.CliEnvironment, "run", "--no-code", "--secret", "NO_SUCH_SECRET", "--", "true");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Single(unknown.StderrLines);
        Assert.Contains("no secret named 'NO_SUCH_SECRET'", unknown.Stderr, StringComparison.Ordinal);
    }
}
