using System.Diagnostics;
using System.Net;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using Microsoft.Data.Sqlite;

namespace LogQuota.Server.Tests.Faults;

/// <summary>SPEC §6 storage faults: another process holds the database's write lock for longer than any request waits.</summary>
public sealed class HeldLockTests
{
    [Fact]
    public async Task WriteLockHeldPastThirtySeconds_WritesAnswer503WithRetryAfter_NeverA500_AndWorkResumesWhenReleased()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();
        await client.SubmitAsync(new SubmitRunRequest(["echo before"], RunName: "before"));
        await client.WaitForEndAsync("before");

        await using (var holder = new SqliteConnection($"Data Source={Path.Combine(server.Dir, "server.db")};Pooling=False"))
        {
            await holder.OpenAsync();
            await using var command = holder.CreateCommand();
            command.CommandText = "BEGIN EXCLUSIVE; INSERT INTO run_events (run_id, timestamp, type, message) SELECT id, 0, 'lock', 'held' FROM runs LIMIT 1;";
            await command.ExecuteNonQueryAsync();
            var held = Stopwatch.StartNew();

            // Every answer while the lock is held, for more than 30 s: each write waits out the busy timeout (10 s) and
            // answers 503 with Retry-After; reads go on (WAL).
            var answers = new List<(TimeSpan At, HttpStatusCode Status)>();
            while (held.Elapsed < TimeSpan.FromSeconds(32))
            {
                var asked = held.Elapsed;
                using var response = await client.PostAsync(new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["echo during"])));
                answers.Add((held.Elapsed, response.StatusCode));
                var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable);
                Assert.StartsWith("The server's database cannot be written: locked (database is locked).", detail, StringComparison.Ordinal);
                Assert.True(response.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {response.Headers.RetryAfter}");
                // At least most of the busy timeout (it waited for the lock); the upper end only catches a hang, with room
                // for a loaded machine.
                Assert.InRange(held.Elapsed - asked, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(90));

                using var health = await client.GetAsync(new Uri("/api/healthcheck", UriKind.Relative));
                Assert.Contains("locked", await ApiClient.AssertProblemAsync(health, HttpStatusCode.ServiceUnavailable), StringComparison.Ordinal);
                Assert.Equal("before", Assert.Single(await client.ListRunsAsync()).RunName);
            }

            Assert.True(answers.Count >= 2, string.Join(", ", answers));
            await using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        // Healthy again without a write of the client's: the processor's own probe write clears the fault.
        var released = Stopwatch.StartNew();
        while (true)
        {
            using var health = await client.GetAsync(new Uri("/api/healthcheck", UriKind.Relative));
            if (health.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            Assert.True(released.Elapsed < TimeSpan.FromSeconds(60), $"the health check still answers {health.StatusCode} after the lock was released");
            await Task.Delay(250);
        }

        var after = await client.SubmitAsync(new SubmitRunRequest(["echo after"], RunName: "after"));
        Assert.Equal("after", after.RunName);
        Assert.Equal(RunStatus.Done, (await client.WaitForEndAsync("after")).Status);
        using var healthy = await client.GetAsync(new Uri("/api/healthcheck", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, healthy.StatusCode);
        Assert.Equal(["after", "before"], (await client.ListRunsAsync()).Select(r => r.RunName));
    }

    /// <summary>An upload finds the database locked: 503 with Retry-After, nothing stored, no upload file left; the same upload later is stored.</summary>
    [Fact]
    public async Task CodeUpload_WhileTheWriteLockIsHeld_Answers503_AndTheSameUploadLaterIsStored()
    {
        await using var server = new ServerFactory(new Dictionary<string, string> { ["DSTACK_SERVER_RUNNERS"] = "http://127.0.0.1:9/" });
        using var client = server.CreateAdminClient();
        var archive = TestArchives.Project();

        await using (var holder = new SqliteConnection($"Data Source={Path.Combine(server.Dir, "server.db")};Pooling=False"))
        {
            await holder.OpenAsync();
            await using var command = holder.CreateCommand();
            command.CommandText = "BEGIN EXCLUSIVE;";
            await command.ExecuteNonQueryAsync();

            using var put = await client.PutCodeAsync(archive);
            var detail = await ApiClient.AssertProblemAsync(put, HttpStatusCode.ServiceUnavailable);
            Assert.StartsWith("The server's database cannot be written: locked", detail, StringComparison.Ordinal);
            Assert.True(put.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), $"Retry-After: {put.Headers.RetryAfter}");

            await using var rollback = holder.CreateCommand();
            rollback.CommandText = "ROLLBACK;";
            await rollback.ExecuteNonQueryAsync();
        }

        using var again = await client.PutCodeAsync(archive);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await client.HeadCodeAsync(TestArchives.Sha256(archive)));
        var uploads = Path.Combine(server.Dir, "code-uploads");
        Assert.True(!Directory.Exists(uploads) || !Directory.EnumerateFiles(uploads).Any(), "An upload's temporary file was left behind.");
    }
}
