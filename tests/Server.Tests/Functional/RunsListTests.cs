using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Apis.Lists;
using LogQuota.Server.Data;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;
using Microsoft.EntityFrameworkCore;

namespace LogQuota.Server.Tests.Functional;

/// <summary>
/// Three active runs on the real embedded runner, and finished runs stored straight into the database (the processor
/// leaves finished jobs alone), many of them submitted in the same millisecond so the id has to break the ties.
/// </summary>
public sealed class RunsListFixture : IAsyncLifetime
{
    public const int Finished = 250;

    public static readonly string[] Active = ["active-a", "active-b", "active-c"];

    public ServerFactory Server { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Server.CreateAdminClient();
        var start = DateTimeOffset.UtcNow.AddDays(-3);
        await Server.QueryAsync(async db =>
        {
            for (var i = 0; i < Finished; i++)
            {
                // Groups of five share a millisecond.
                var at = start.AddMilliseconds(i / 5);
                var run = new RunEntity { Id = Guid.CreateVersion7(at), RunName = $"done-{i:D3}", SubmittedAt = at };
                run.Jobs.Add(new JobEntity
                {
                    Id = Guid.CreateVersion7(at), Run = run, Status = JobStatus.Done, SubmittedAt = at, FinishedAt = at.AddSeconds(1), ExitStatus = 0,
                    Spec = new JobSpec(["true"], null, null, null, null), RunnerReleased = true,
                });
                db.Runs.Add(run);
            }

            return await db.SaveChangesAsync();
        });

        foreach (var name in Active)
        {
            await Client.SubmitAsync(new SubmitRunRequest(["sleep 600"], RunName: name));
        }
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}

public sealed class RunsListTests(RunsListFixture fixture) : IClassFixture<RunsListFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(1000)]
    public async Task Paging_ReturnsEveryRunOnce_NewestFirst(int limit)
    {
        var seen = await PageThroughAsync($"limit={limit}");
        var expected = await fixture.Server.QueryAsync(db =>
            db.Runs.OrderByDescending(r => r.SubmittedAt).ThenByDescending(r => r.Id).Select(r => r.RunName).ToListAsync());

        Assert.Equal(RunsListFixture.Finished + RunsListFixture.Active.Length, expected.Count);
        Assert.Equal(expected, seen.Select(r => r.RunName));
        Assert.Equal(RunsListFixture.Active.Reverse(), seen.Take(3).Select(r => r.RunName));
    }

    [Fact]
    public async Task WithoutLimit_APageHoldsOneHundredRows()
    {
        var page = await GetPageAsync("");
        Assert.Equal(RunsListApi.DefaultLimit, page.Runs.Count);
        Assert.NotNull(page.NextToken);
        Assert.Equal("active-c", page.Runs[0].RunName);
    }

    [Fact]
    public async Task OnlyActive_ListsTheRunsWhoseJobHasNotEnded()
    {
        var seen = await PageThroughAsync("only_active=true&limit=2");
        Assert.Equal(RunsListFixture.Active.Reverse(), seen.Select(r => r.RunName));
        Assert.All(seen, r => Assert.DoesNotContain(r.Status, new[] { RunStatus.Done, RunStatus.Failed, RunStatus.Terminated }));

        var finished = await GetPageAsync("only_active=false&limit=5");
        Assert.Equal(5, finished.Runs.Count);
    }

    [Theory]
    [InlineData("limit=0", "limit must be a whole number from 1 to 1000, got '0'.")]
    [InlineData("limit=1001", "limit must be a whole number from 1 to 1000, got '1001'.")]
    [InlineData("limit=-1", "limit must be a whole number from 1 to 1000, got '-1'.")]
    [InlineData("limit=ten", "limit must be a whole number from 1 to 1000, got 'ten'.")]
    [InlineData("only_active=yes", "only_active must be true or false, got 'yes'.")]
    [InlineData("next_token=abc", "next_token is not a token this server issued for the runs list with only_active=false; start again without next_token.")]
    public async Task BadQueryValues_Are400Problems_NamingTheParameter(string query, string detail)
    {
        using var response = await _client.GetAsync(new Uri($"/api/runs?{query}", UriKind.Relative));
        Assert.Equal(detail, await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest));
    }

    [Fact]
    public async Task TamperedOrMisusedTokens_Are400Problems()
    {
        var token = (await GetPageAsync("limit=3")).NextToken!;
        var flipped = token[..5] + (token[5] == 'A' ? 'B' : 'A') + token[6..];
        var logsToken = (await _client.GetLogsAsync("done-000", "?limit=1")).NextToken;
        foreach (var query in new[] { $"next_token={flipped}", $"next_token={token}&only_active=true", $"next_token={token}x", $"next_token={logsToken}" })
        {
            using var response = await _client.GetAsync(new Uri($"/api/runs?{query}", UriKind.Relative));
            var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.StartsWith("next_token is not a token this server issued", detail, StringComparison.Ordinal);
        }

        // The token itself is good: the next page follows the first.
        var next = await GetPageAsync($"limit=3&next_token={token}");
        Assert.Equal(3, next.Runs.Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APage_IsAnIndexRangeRead_WithoutASortOfAllRuns(bool onlyActive)
    {
        var cursor = new RunCursor(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), Guid.CreateVersion7());
        var plan = await fixture.Server.QueryAsync(async db =>
        {
            var sql = RunsListApi.Page(db, LogQuota.Server.Data.ProjectEntity.MainId, onlyActive, cursor).Take(101).ToQueryString();
            var connection = db.Database.GetDbConnection();
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();

            // ToQueryString declares the parameters as .param set lines; EXPLAIN needs them bound instead.
            var lines = sql.Split('\n');
            command.CommandText = "EXPLAIN QUERY PLAN " + string.Join('\n', lines.Where(l => !l.StartsWith(".param", StringComparison.Ordinal)));
            foreach (var line in lines.Where(l => l.StartsWith(".param set ", StringComparison.Ordinal)))
            {
                var parts = line.Split(' ', 4);
                var parameter = command.CreateParameter();
                parameter.ParameterName = parts[2];
                parameter.Value = parts[3].Trim().Trim('\'');
                command.Parameters.Add(parameter);
            }

            var steps = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                steps.Add(reader.GetString(3));
            }

            return steps;
        });

        // All runs: a backward range read of the project's part of the (project_id, submitted_at, id) index, no sort. Active runs: the jobs' (project, status) index
        // finds them and only they are sorted (their number, not the number of stored runs, sets the cost).
        var text = string.Join(" | ", plan);
        Assert.DoesNotContain("SCAN", text, StringComparison.Ordinal);
        if (onlyActive)
        {
            Assert.Contains("USING INDEX IX_jobs_project_id_status (project_id=? AND status=?)", text, StringComparison.Ordinal);
            Assert.Contains("USING INDEX sqlite_autoindex_runs_1 (id=?)", text, StringComparison.Ordinal);
        }
        else
        {
            Assert.Contains("USING INDEX IX_runs_project_id_submitted_at_id (project_id=? AND submitted_at<?)", text, StringComparison.Ordinal);
            Assert.DoesNotContain("TEMP B-TREE", text, StringComparison.Ordinal);
        }
    }

    private async Task<List<RunRow>> PageThroughAsync(string query)
    {
        var seen = new List<RunRow>();
        string? token = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await GetPageAsync(token is null ? query : $"{query}&next_token={token}");
            seen.AddRange(page.Runs);
            token = page.NextToken;
            if (token is null)
            {
                return seen;
            }
        }

        Assert.Fail("Paging did not end after 1000 pages.");
        return seen;
    }

    private async Task<RunsPage> GetPageAsync(string query)
    {
        using var response = await _client.GetAsync(new Uri($"/api/runs?{query}", UriKind.Relative));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<RunsPage>(LogQuotaJson.Options))!;
    }
}
