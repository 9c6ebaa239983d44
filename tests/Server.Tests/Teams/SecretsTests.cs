using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using LogQuota.Server.Configuration;
using LogQuota.Server.Teams;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace LogQuota.Server.Tests.Teams;

/// <summary>Project secrets through the API, on SQLite and PostgreSQL: set, listed without values, refused in words, asked for by runs.</summary>
public sealed class SecretsTests
{
    public static TheoryData<DatabaseProvider> Providers => new() { DatabaseProvider.Sqlite, DatabaseProvider.Postgres };

    /// <summary>A value of letters g to z only: never part of a GUID, a hash or a number that a log or a row holds anyway.</summary>
    public static string NewSecret() =>
        "hf_" + new string([.. Enumerable.Range(0, 37).Select(_ => (char)('g' + Random.Shared.Next(20)))]);

    [SkippableTheory]
    [MemberData(nameof(Providers))]
    public async Task Secrets_AreSetListedAndDeleted_AndNoAnswerHoldsAValue(DatabaseProvider provider)
    {
        using var database = TestDatabase.Create(provider);
        await using var server = new ServerFactory(database: database);
        using var admin = server.CreateAdminClient();
        var secret = NewSecret();

        using var set = await admin.PutAsync(new Uri("/api/projects/main/secrets/HF_TOKEN", UriKind.Relative), ApiClient.Json(new SetSecretRequest(secret)));
        var setBody = await set.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.DoesNotContain(secret, setBody, StringComparison.Ordinal);
        Assert.Equal("HF_TOKEN", (await set.Content.ReadFromJsonAsync<SecretInfo>(LogQuotaJson.Options))!.Name);

        using var list = await admin.GetAsync(new Uri("/api/projects/main/secrets", UriKind.Relative));
        var listBody = await list.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret, listBody, StringComparison.Ordinal);
        var listed = Assert.Single((await list.Content.ReadFromJsonAsync<SecretsList>(LogQuotaJson.Options))!.Secrets);
        Assert.Equal(("HF_TOKEN", Caller.BootstrapAdminName), (listed.Name, listed.UpdatedBy));

        // Stored encrypted, and decrypted only by the server's key ring, bound to its project and name.
        var stored = await server.QueryAsync(db => db.ProjectSecrets.SingleAsync());
        Assert.DoesNotContain(secret, stored.ProtectedValue, StringComparison.Ordinal);
        var protection = server.Services.GetRequiredService<SecretProtection>();
        Assert.Equal(secret, protection.Unprotect(stored.ProjectId, "HF_TOKEN", stored.ProtectedValue));
        Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => protection.Unprotect(stored.ProjectId, "OTHER", stored.ProtectedValue));

        var run = await admin.SubmitAsync(new SubmitRunRequest(["""[ "$HF_TOKEN" = "$EXPECTED" ] && echo same"""], RunName: "gets", Secrets: ["HF_TOKEN"],
            Env: new Dictionary<string, string> { ["EXPECTED"] = secret }));
        Assert.Equal(["HF_TOKEN"], run.Jobs[0].JobSpec.Secrets!);
        var ended = await admin.WaitForEndAsync("gets");
        Assert.True(ended.Status == RunStatus.Done, $"the job did not get its secret: {ended.StatusMessage} {ended.TerminationMessage}");
        Assert.Equal("same\n", System.Text.Encoding.UTF8.GetString(await admin.GetLogsTextAsync("gets")));

        using (var deleted = await admin.DeleteAsync(new Uri("/api/projects/main/secrets/HF_TOKEN", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var again = await admin.DeleteAsync(new Uri("/api/projects/main/secrets/HF_TOKEN", UriKind.Relative));
        Assert.Contains("has no secret named 'HF_TOKEN'", await ApiClient.AssertProblemAsync(again, HttpStatusCode.NotFound), StringComparison.Ordinal);
        if (provider == DatabaseProvider.Postgres)
        {
            Assert.True(await server.QueryAsync(db => ((LogQuota.Server.Data.Postgres.PostgresServerDbContext)db).DataProtectionKeys.CountAsync()) >= 1);
        }
    }

    [Theory]
    [InlineData("HF_TOKEN", """{"value": "abc"}""", "value", "at least 4 characters")]
    [InlineData("HF_TOKEN", """{"value": "long enough\nab"}""", "value", "each of its lines that is not blank")]
    [InlineData("HF_TOKEN", """{"value": "tab\there"}""", "value", "control characters")]
    [InlineData("HF_TOKEN", """{"value": null}""", null, "`value` m")]
    [InlineData("DSTACK_TOKEN", """{"value": "long enough"}""", "name", "is reserved")]
    [InlineData("HOME", """{"value": "long enough"}""", "name", "is reserved")]
    [InlineData("1BAD", """{"value": "long enough"}""", "name", "environment variable name")]
    public async Task WhatCannotBeMasked_OrNamed_IsRefused_InWords(string name, string body, string? field, string words)
    {
        await using var server = new ServerFactory();
        using var admin = server.CreateAdminClient();

        using var response = await admin.PutAsync(new Uri($"/api/projects/main/secrets/{name}", UriKind.Relative), new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(words, detail, StringComparison.Ordinal);
        if (field is not null)
        {
            Assert.Contains($"\"{field}\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Equal(0, await server.QueryAsync(db => db.ProjectSecrets.CountAsync()));
    }

    [Fact]
    public async Task ARun_AskingForAnUnknownSecret_OrOneAlsoInItsEnv_IsRefused_NamingIt()
    {
        await using var server = new ServerFactory();
        using var admin = server.CreateAdminClient();
        using (await admin.PutAsync(new Uri("/api/projects/main/secrets/HF_TOKEN", UriKind.Relative), ApiClient.Json(new SetSecretRequest(NewSecret()))))
        {
        }

        using var unknown = await admin.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"], Secrets: ["HF_TOKEN", "WANDB_API_KEY"])));
        Assert.Contains("no secret named 'WANDB_API_KEY'", await ApiClient.AssertProblemAsync(unknown, HttpStatusCode.BadRequest), StringComparison.Ordinal);

        using var both = await admin.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"],
            Env: new Dictionary<string, string> { ["HF_TOKEN"] = "x" }, Secrets: ["HF_TOKEN"])));
        Assert.Contains("'HF_TOKEN' is both in env and in secrets", await ApiClient.AssertProblemAsync(both, HttpStatusCode.BadRequest), StringComparison.Ordinal);
        Assert.Equal((0, 0, 0), await server.CountRowsAsync());
    }

    [Fact]
    public async Task EnvValues_AreShownToTheRunsAuthorOnly()
    {
        await using var server = new ServerFactory();
        using var admin = server.CreateAdminClient();
        var alice = await UserAsync(server, admin, "alice");
        var bob = await UserAsync(server, admin, "bob");
        using (await alice.PostAsync(new Uri("/api/projects", UriKind.Relative), ApiClient.Json(new CreateProjectRequest("research"))))
        {
        }

        using (await alice.PutAsync(new Uri("/api/projects/research/members/bob", UriKind.Relative), ApiClient.Json(new SetMemberRequest(ProjectRole.User))))
        {
        }

        using (var submitted = await alice.PostAsync(new Uri("/api/projects/research/runs", UriKind.Relative),
                   ApiClient.Json(new SubmitRunRequest(["true"], RunName: "mine", Env: new Dictionary<string, string> { ["WANDB_API_KEY"] = "plain-value" }))))
        {
            Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        }

        async Task<string?> EnvAs(HttpClient client)
        {
            var run = await client.GetFromJsonAsync<RunDetails>(new Uri("/api/projects/research/runs/mine", UriKind.Relative), LogQuotaJson.Options);
            return run!.Jobs[0].JobSpec.Env!["WANDB_API_KEY"];
        }

        Assert.Equal("plain-value", await EnvAs(alice));
        Assert.Equal("***", await EnvAs(bob));
        Assert.Equal("***", await EnvAs(admin));
        alice.Dispose();
        bob.Dispose();
    }

    private static async Task<HttpClient> UserAsync(ServerFactory server, HttpClient admin, string name)
    {
        using var created = await admin.PostAsync(new Uri("/api/users", UriKind.Relative), ApiClient.Json(new CreateUserRequest(name, GlobalRole.User)));
        var token = (await created.Content.ReadFromJsonAsync<UserWithToken>(LogQuotaJson.Options))!.Token;
        var client = server.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
