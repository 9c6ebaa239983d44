using System.Net;
using LogQuota.Server.Configuration;
using LogQuota.Server.Data.Faults;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Npgsql;

namespace LogQuota.Server.Tests.Faults;

/// <summary>
/// SPEC §6 storage faults on PostgreSQL: the network to the database goes down (a real relay cut: every connection
/// closed, new ones refused). Every endpoint answers 503 with Retry-After, never 500, the health check too; when the
/// network returns, so does the server. And each SQLSTATE of class 53 is named for what it is.
/// </summary>
public sealed class DatabaseOutageTests
{
    [SkippableFact]
    public async Task DatabaseUnreachable_EveryEndpointAnswers503WithRetryAfter_HealthToo_AndTheServerRecovers()
    {
        using var database = TestDatabase.Create(DatabaseProvider.Postgres);
        var target = new Uri(database.Url!);
        await using var relay = TcpRelay.Start(target.Host, target.Port);
        var url = new UriBuilder(database.Url!) { Port = relay.Port }.Uri.ToString().TrimEnd('/');
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_DATABASE_URL"] = url });
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["echo before"], RunName: "before"));
        await client.WaitForEndAsync("before");

        await relay.CutAsync();

        var requests = new Func<HttpRequestMessage>[]
        {
            () => new HttpRequestMessage(HttpMethod.Post, "/api/runs") { Content = ApiClient.Json(new SubmitRunRequest(["echo during"])) },
            () => new HttpRequestMessage(HttpMethod.Get, "/api/runs"),
            () => new HttpRequestMessage(HttpMethod.Get, "/api/runs/before"),
            () => new HttpRequestMessage(HttpMethod.Get, "/api/runs/before/logs"),
            () => new HttpRequestMessage(HttpMethod.Get, "/api/runs/before/logs?format=text"),
            () => new HttpRequestMessage(HttpMethod.Post, "/api/runs/before/stop"),
            () => new HttpRequestMessage(HttpMethod.Delete, "/api/runs/before"),
        };
        foreach (var request in requests)
        {
            using var message = request();
            using var response = await client.SendAsync(message);
            var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
            Assert.Contains("unavailable", detail, StringComparison.Ordinal);
            Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"{message.Method} {message.RequestUri}: Retry-After {response.Headers.RetryAfter}");
        }

        using (var health = await client.GetAsync(new Uri("/api/healthcheck", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
            Assert.NotNull(health.Headers.RetryAfter);
        }

        relay.Resume();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["echo after"], RunName: "after")));
            if (response.StatusCode == HttpStatusCode.Created)
            {
                break;
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(DateTime.UtcNow < deadline, "waited 90 s for the server to take a run again after the database returned");
            await Task.Delay(200);
        }

        Assert.Equal(RunStatus.Done, (await client.WaitForEndAsync("after")).Status);
        while (true)
        {
            using var health = await client.GetAsync(new Uri("/api/healthcheck", UriKind.Relative));
            if (health.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "waited 90 s for the health check to answer 200 again");
            await Task.Delay(200);
        }
    }

    [SkippableFact]
    public async Task ConnectionRefused_IsUnavailable_AndTooManyConnections_IsNotDiskFull()
    {
        using var database = TestDatabase.Create(DatabaseProvider.Postgres);
        var target = new Uri(database.Url!);
        await using var relay = TcpRelay.Start(target.Host, target.Port);
        await relay.CutAsync();
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(async () =>
        {
            await using var connection = new NpgsqlConnection(TestDatabase.ToConnectionString(new UriBuilder(database.Url!) { Port = relay.Port }.Uri.ToString()) + ";Pooling=false");
            await connection.OpenAsync();
        });
        Assert.Equal("unavailable", StorageFault.From(refused)?.Kind);

        // A role allowed one connection, asked for a second: PostgreSQL's own 53300.
        var role = $"lq_one_{Guid.NewGuid():N}";
        database.Execute($"CREATE ROLE {role} LOGIN PASSWORD 'pw' CONNECTION LIMIT 1");
        try
        {
            var asRole = new UriBuilder(database.Url!) { UserName = role, Password = "pw" }.Uri.ToString();
            await using var first = new NpgsqlConnection(TestDatabase.ToConnectionString(asRole) + ";Pooling=false");
            await first.OpenAsync();
            var tooMany = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var second = new NpgsqlConnection(TestDatabase.ToConnectionString(asRole) + ";Pooling=false");
                await second.OpenAsync();
            });
            Assert.Equal("53300", tooMany.SqlState);
            Assert.Equal("too many connections", StorageFault.From(tooMany)?.Kind);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            database.Execute($"DROP ROLE IF EXISTS {role}");
        }
    }
}
