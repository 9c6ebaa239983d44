using System.Net;
using System.Net.Http.Json;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Server.Tests.Budgets;

/// <summary>Setting a project's budget through the API: what is taken, what is refused (400 problem details naming the field), and what is shown.</summary>
public sealed class BudgetApiTests
{
    [Theory]
    [InlineData("""{"name": "gamma", "log_budget_hour": -1}""", "log_budget_hour")]
    [InlineData("""{"name": "gamma", "log_budget_hour": "1MiB"}""", "log_budget_hour")]
    [InlineData("""{"name": "gamma", "log_budget_hour": 1.5}""", "log_budget_hour")]
    [InlineData("""{"name": "gamma", "log_budget_hour": 99999999999999999999}""", "log_budget_hour")]
    [InlineData("""{"name": "gamma", "log_budget_action": "delete"}""", "log_budget_action")]
    public async Task ABadBudget_IsRefused_NamingTheField_AndNothingIsStored(string body, string field)
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var created = await client.PostAsync(new Uri("/api/projects", UriKind.Relative), ApiClient.Json(body));
        using var patched = await client.PatchAsync(new Uri("/api/projects/main", UriKind.Relative), ApiClient.Json(body.Replace("\"name\": \"gamma\", ", "", StringComparison.Ordinal)));

        foreach (var response in new[] { created, patched })
        {
            var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.Contains(field, detail, StringComparison.Ordinal);
            Assert.DoesNotContain("LogQuota.", detail, StringComparison.Ordinal);
        }

        Assert.Equal(1, await server.QueryAsync(db => Task.FromResult(db.Projects.Count())));
        Assert.Null((await GetAsync(client, "main")).LogBudget);
    }

    [Fact]
    public async Task ABudget_IsSetAtCreation_ChangedAndRemovedWithPatch_AndShownWithTheHour()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        using var created = await client.PostAsync(new Uri("/api/projects", UriKind.Relative),
            ApiClient.Json("""{"name": "research", "log_budget_hour": 1048576, "log_budget_action": "truncate"}"""));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var budget = (await created.Content.ReadFromJsonAsync<ProjectInfo>(LogQuotaJson.Options))!.LogBudget!;
        Assert.Equal((1048576L, LogQuotaAction.Truncate, 0L, 0L), (budget.Limit!.Value, budget.Action, budget.UsedBytesHour, budget.DroppedBytesHour));
        Assert.Equal(0, budget.HourStartedAt.Minute + budget.HourStartedAt.Second + budget.HourStartedAt.Millisecond);
        Assert.Equal(budget.HourStartedAt.AddHours(1), budget.HourResetsAt);
        Assert.Null(budget.ExceededAt);

        // Only the fields sent change.
        var observe = await PatchAsync(client, "research", """{"log_budget_action": "observe"}""");
        Assert.Equal((1048576L, LogQuotaAction.Observe), (observe.LogBudget!.Limit!.Value, observe.LogBudget.Action));
        var bigger = await PatchAsync(client, "research", """{"log_budget_hour": 2097152}""");
        Assert.Equal((2097152L, LogQuotaAction.Observe), (bigger.LogBudget!.Limit!.Value, bigger.LogBudget.Action));
        Assert.Null((await PatchAsync(client, "research", """{"log_budget_hour": 0}""")).LogBudget);
        Assert.Empty((await GetAsync(client, "research")).Events!);
    }

    private static async Task<ProjectInfo> PatchAsync(HttpClient client, string project, string body)
    {
        using var response = await client.PatchAsync(new Uri($"/api/projects/{project}", UriKind.Relative), ApiClient.Json(body));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<ProjectInfo>(LogQuotaJson.Options))!;
    }

    private static async Task<ProjectInfo> GetAsync(HttpClient client, string project) =>
        (await client.GetFromJsonAsync<ProjectInfo>(new Uri($"/api/projects/{project}", UriKind.Relative), LogQuotaJson.Options))!;
}
