using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace LogQuota.Server.Tests.Teams;

/// <summary>Users and their tokens, projects and their members, and runs named within their project (SPEC §10).</summary>
public sealed class UsersAndProjectsTests
{
    [Fact]
    public async Task AUsersToken_IsShownOnce_WorksUntilRotated_AndEndsWithTheUser()
    {
        await using var server = new ServerFactory();
        using var admin = server.CreateAdminClient();
        var created = await CreateUserAsync(admin, "alice", GlobalRole.User);
        Assert.StartsWith("lqu_", created.Token, StringComparison.Ordinal);
        Assert.True(created.Token.Length >= 40, created.Token);

        // Listed without a token, and the stored row holds only the hash.
        var listed = await admin.GetStringAsync(new Uri("/api/users", UriKind.Relative));
        Assert.Contains("\"name\":\"alice\"", listed, StringComparison.Ordinal);
        Assert.DoesNotContain(created.Token, listed, StringComparison.Ordinal);
        Assert.DoesNotContain("token", listed, StringComparison.Ordinal);
        Assert.Equal(32, (await server.QueryAsync(db => db.Users.SingleAsync())).TokenHash.Length);

        using var alice = Client(server, created.Token);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync(new Uri("/api/projects", UriKind.Relative))).StatusCode);

        // Rotated by the user themself: the old token stops at once, the new one works.
        using var rotated = await alice.PostAsync(new Uri("/api/users/alice/token", UriKind.Relative), null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var fresh = (await rotated.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token;
        Assert.NotEqual(created.Token, fresh);
        await ApiClient.AssertProblemAsync(await alice.GetAsync(new Uri("/api/projects", UriKind.Relative)), HttpStatusCode.Unauthorized);
        using var renewed = Client(server, fresh);
        Assert.Equal(HttpStatusCode.OK, (await renewed.GetAsync(new Uri("/api/projects", UriKind.Relative))).StatusCode);

        // Deleted: the token stops, and the name is free again.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync(new Uri("/api/users/alice", UriKind.Relative))).StatusCode);
        await ApiClient.AssertProblemAsync(await renewed.GetAsync(new Uri("/api/projects", UriKind.Relative)), HttpStatusCode.Unauthorized);
        await ApiClient.AssertProblemAsync(await admin.DeleteAsync(new Uri("/api/users/alice", UriKind.Relative)), HttpStatusCode.NotFound);
        await CreateUserAsync(admin, "alice", GlobalRole.User);
    }

    [Theory]
    [InlineData("""{"name": "admin", "global_role": "user"}""", HttpStatusCode.Conflict, "A user named 'admin' already exists (the admin token's holder)")]
    [InlineData("""{"name": "taken", "global_role": "user"}""", HttpStatusCode.Conflict, "A user named 'taken' already exists")]
    [InlineData("""{"name": "Bob", "global_role": "user"}""", HttpStatusCode.BadRequest, "A user's name must start with a lowercase letter")]
    [InlineData("""{"name": "bob", "global_role": "owner"}""", HttpStatusCode.BadRequest, "The body is not a valid user: `global_role`")]
    [InlineData("""{"name": "bob"}""", HttpStatusCode.BadRequest, "The body is not a valid user: ")]
    [InlineData("""{"name": "bob", "global_role": "user", "token": "mine"}""", HttpStatusCode.BadRequest, "unknown field `token`")]
    public async Task ABadUser_IsRefusedInWords_AndNothingIsStored(string body, HttpStatusCode status, string detail)
    {
        await using var server = new ServerFactory();
        using var admin = server.CreateAdminClient();
        await CreateUserAsync(admin, "taken", GlobalRole.User);
        var said = await ApiClient.AssertProblemAsync(await admin.PostAsync(new Uri("/api/users", UriKind.Relative), ApiClient.Json(body)), status);
        Assert.Contains(detail, said, StringComparison.Ordinal);
        Assert.Equal(["taken"], await server.QueryAsync(db => db.Users.Select(u => u.Name).ToListAsync()));
    }

    [Fact]
    public async Task RunNames_AreUniqueWithinAProject_AndAProjectsCreator_IsItsAdmin()
    {
        await using var server = new ServerFactory();
        using var admin = server.CreateAdminClient();
        using var alice = Client(server, (await CreateUserAsync(admin, "alice", GlobalRole.User)).Token);
        using (var created = await alice.PostAsync(new Uri("/api/projects", UriKind.Relative), ApiClient.Json(new CreateProjectRequest("research"))))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var project = (await created.Content.ReadFromJsonAsync<ProjectInfo>(LogQuotaJson.Options))!;
            Assert.Equal([new ProjectMember("alice", ProjectRole.Admin)], project.Members);
        }

        await ApiClient.AssertProblemAsync(
            await alice.PostAsync(new Uri("/api/projects", UriKind.Relative), ApiClient.Json(new CreateProjectRequest("research"))), HttpStatusCode.Conflict);
        var projects = (await alice.GetFromJsonAsync<ProjectsList>(new Uri("/api/projects", UriKind.Relative), LogQuotaJson.Options))!;
        Assert.Equal([new ProjectRow("research", ProjectRole.Admin)], projects.Projects);

        // The same name in main (through its alias) and in research; a second one in research is refused.
        await admin.SubmitAsync(new SubmitRunRequest(["echo main"], RunName: "train"));
        using (var first = await alice.PostAsync(new Uri("/api/projects/research/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["echo research"], RunName: "train"))))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
            Assert.Equal("/api/projects/research/runs/train", first.Headers.Location?.ToString());
        }

        await ApiClient.AssertProblemAsync(
            await alice.PostAsync(new Uri("/api/projects/research/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"], RunName: "train"))),
            HttpStatusCode.Conflict);
        await admin.WaitForEndAsync("train");
        var research = (await admin.GetFromJsonAsync<RunsPage>(new Uri("/api/projects/research/runs", UriKind.Relative), LogQuotaJson.Options))!;
        Assert.Equal(["train"], research.Runs.Select(r => r.RunName));
        Assert.Equal(["train"], (await admin.ListRunsAsync()).Select(r => r.RunName));

        // Each reads its own run's log.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while ((await admin.GetFromJsonAsync<RunDetails>(new Uri("/api/projects/research/runs/train", UriKind.Relative), LogQuotaJson.Options))!.Status
               is not (RunStatus.Done or RunStatus.Failed))
        {
            Assert.True(DateTime.UtcNow < deadline, "The research run did not end within 90 s.");
            await Task.Delay(50);
        }

        Assert.Equal("main\n", System.Text.Encoding.UTF8.GetString(await admin.GetLogsTextAsync("train")));
        Assert.Equal("research\n", await alice.GetStringAsync(new Uri("/api/projects/research/runs/train/logs?format=text", UriKind.Relative)));
    }

    /// <summary>A database from before projects, with a run in it: the migration puts the run in main, where /api/runs finds it.</summary>
    [SkippableTheory]
    [InlineData(DatabaseProvider.Sqlite)]
    [InlineData(DatabaseProvider.Postgres)]
    public async Task TheMigration_PutsTheRunsStoredBeforeProjects_InMain(DatabaseProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        using var dir = new TempDirectory();
        await using (var before = new ServerFactory(dir: dir.Path, database: database, passesByTest: true))
        {
            using var admin = before.CreateAdminClient();
            await admin.SubmitAsync(new SubmitRunRequest(["echo old"], RunName: "from-before"));
            await before.QueryAsync(async db =>
            {
                var migrations = db.Database.GetMigrations().ToList();
                var beforeTeams = migrations.FindIndex(m => m.EndsWith("_Teams", StringComparison.Ordinal)) - 1;
                await db.Database.OpenConnectionAsync();

                // One migration at a time: a later one that rebuilds a SQLite table turns foreign keys back on at its end.
                for (var target = migrations.Count - 2; target >= beforeTeams; target--)
                {
                    if (provider == DatabaseProvider.Sqlite)
                    {
                        // Going down drops projects while runs still name them; SQLite checks that only with this on.
                        await db.Database.ExecuteSqlRawAsync("PRAGMA foreign_keys = OFF");
                    }

                    await db.GetService<IMigrator>().MigrateAsync(migrations[target]);
                }

                return 0;
            });
        }

        await using var after = new ServerFactory(dir: dir.Path, database: database, passesByTest: true);
        using var client = after.CreateAdminClient();
        Assert.Equal(["from-before"], (await client.ListRunsAsync()).Select(r => r.RunName));
        Assert.Equal(RunStatus.Submitted, (await client.GetRunAsync("from-before")).Status);
        Assert.Equal(
            [ProjectEntity.MainId, ProjectEntity.MainId],
            await after.QueryAsync(async db => (await db.Runs.Select(r => r.ProjectId).ToListAsync()).Concat(await db.Jobs.Select(j => j.ProjectId).ToListAsync()).ToList()));
    }

    private static async Task<UserWithToken> CreateUserAsync(HttpClient admin, string name, GlobalRole role)
    {
        using var response = await admin.PostAsync(new Uri("/api/users", UriKind.Relative), ApiClient.Json(new CreateUserRequest(name, role)));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!;
    }

    private static HttpClient Client(ServerFactory server, string token)
    {
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
