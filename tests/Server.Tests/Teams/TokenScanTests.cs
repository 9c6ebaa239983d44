using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using LogQuota.Server.Tests.Functional;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LogQuota.Server.Tests.Teams;

/// <summary>
/// Users' tokens exist only in the answers that hand them out, and secrets' values only in the jobs that get them: never in
/// the database file nor in the server's log (every entry at Trace, as <see cref="TokenLoggingTests"/> captures them),
/// through the API and the web page's sign-in.
/// </summary>
public sealed class TokenScanTests
{
    [Fact]
    public async Task NoUserToken_NorSecret_IsInTheDatabaseFile_OrTheServerLog()
    {
        var capture = new CapturingLoggerProvider();
        var tokens = new List<string>();
        var secret = SecretsTests.NewSecret();
        using var dir = new TempDirectory();
        await using (var server = new ServerFactory(dir: dir.Path, configureServices: services =>
        {
            services.AddSingleton<ILoggerProvider>(capture);
            services.Configure<LoggerFilterOptions>(o => o.Rules.Add(new LoggerFilterRule(typeof(CapturingLoggerProvider).FullName, null, LogLevel.Trace, null)));
        }))
        {
            using var admin = server.CreateAdminClient();
            foreach (var name in new[] { "alice", "bob" })
            {
                using var created = await admin.PostAsync(new Uri("/api/users", UriKind.Relative), ApiClient.Json(new CreateUserRequest(name, GlobalRole.User)));
                tokens.Add((await created.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token);
            }

            // Every path a token takes: requests with it, a project, a run, a rotation, a refused and a web sign-in.
            using var alice = server.CreateClient();
            alice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens[0]);
            Assert.Equal(HttpStatusCode.Created, (await alice.PostAsync(new Uri("/api/projects", UriKind.Relative), ApiClient.Json(new CreateProjectRequest("scan")))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await alice.PutAsync(new Uri("/api/projects/scan/secrets/SCAN_KEY", UriKind.Relative), ApiClient.Json(new SetSecretRequest(secret)))).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await alice.PostAsync(
                new Uri("/api/projects/scan/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["echo scanned $SCAN_KEY"], RunName: "scanned", Secrets: ["SCAN_KEY"])))).StatusCode);
            await WaitForLogAsync(alice, "scanned ***\n");
            using (var rotated = await alice.PostAsync(new Uri("/api/users/alice/token", UriKind.Relative), null))
            {
                tokens.Add((await rotated.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token);
            }

            using var stale = await alice.GetAsync(new Uri("/api/projects", UriKind.Relative));
            Assert.Equal(HttpStatusCode.Unauthorized, stale.StatusCode);
            using var browser = server.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
            foreach (var (token, answer) in new[] { (tokens[0], HttpStatusCode.Unauthorized), (tokens[1], HttpStatusCode.Redirect) })
            {
                using var signIn = await browser.PostFormAsync("/signin", ("token", token));
                Assert.Equal(answer, signIn.StatusCode);
            }

            await admin.DeleteAsync(new Uri("/api/users/bob", UriKind.Relative));
            Assert.Contains(capture.Entries, e => e.Text.Contains("alice", StringComparison.Ordinal));
        }

        // Scanned once the server has closed the database: every byte of it, the main file and any WAL left.
        var files = Directory.GetFiles(dir.Path, "server.db*");
        Assert.Contains(files, f => f.EndsWith("server.db", StringComparison.Ordinal));
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            foreach (var token in tokens.Append(secret))
            {
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(token)) < 0, $"{Path.GetFileName(file)} holds a user's token in clear text");
                Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(token[4..20])) < 0, $"{Path.GetFileName(file)} holds part of a user's token");
            }
        }

        var leaks = capture.Entries.Where(e => tokens.Append(secret).Any(t => e.Text.Contains(t, StringComparison.Ordinal))).Select(e => $"{e.Category}: {e.Text}").ToList();
        Assert.True(leaks.Count == 0, $"logged a user's token or a secret:\n{string.Join('\n', leaks)}");
    }

    private static async Task WaitForLogAsync(HttpClient client, string wanted)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var text = await client.GetStringAsync(new Uri("/api/projects/scan/runs/scanned/logs?format=text", UriKind.Relative));
            if (text == wanted)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"waited 90 s for the run's log to read '{wanted}'; it read '{text}'");
            await Task.Delay(100);
        }
    }
}
