using System.Net;
using LogQuota.Server.Tests.Infrastructure;
using LogQuota.Shared.Contracts;

namespace LogQuota.Server.Tests.Functional;

/// <summary>How the server's quota and a run's request combine into <c>job_spec.log_quota_hour</c> (SPEC §2).</summary>
public sealed class QuotaSettingTests
{
    [Fact]
    public async Task DefaultQuota_GoesIntoTheJobSpec()
    {
        await using var server = new ServerFactory();
        using var client = server.CreateAdminClient();

        var run = await client.SubmitAsync(new SubmitRunRequest(["true"]));

        Assert.Equal(52_428_800, run.LogQuotaHour);
        Assert.Equal(52_428_800, run.Jobs[0].JobSpec.LogQuotaHour);
    }

    [Fact]
    public async Task LowerRequest_IsUsedAsIs()
    {
        await using var server = Quota("2000");
        using var client = server.CreateAdminClient();

        var run = await client.SubmitAsync(new SubmitRunRequest(["true"], LogQuotaHour: 1500));

        Assert.Equal(1500, run.Jobs[0].JobSpec.LogQuotaHour);
        Assert.Equal(1500, (await client.GetRunAsync(run.RunName)).LogQuotaHour);
    }

    [Fact]
    public async Task HigherRequest_IsRefused_NamingBothNumbers()
    {
        await using var server = Quota("2000");
        using var client = server.CreateAdminClient();

        using var response = await client.PostAsync(
            new Uri("/api/runs", UriKind.Relative), ApiClient.Json(new SubmitRunRequest(["true"], LogQuotaHour: 3000)));

        var detail = await ApiClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("3000", detail, StringComparison.Ordinal);
        Assert.Contains("2000", detail, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0), await server.CountRowsAsync());
    }

    [Fact]
    public async Task ZeroDisablesTheQuota_AndAnyRequestIsUsedAsIs()
    {
        await using var server = Quota("0");
        using var client = server.CreateAdminClient();

        var unlimited = await client.SubmitAsync(new SubmitRunRequest(["true"]));
        var asked = await client.SubmitAsync(new SubmitRunRequest(["true"], LogQuotaHour: 104_857_600_000));

        Assert.Null(unlimited.Jobs[0].JobSpec.LogQuotaHour);
        Assert.Null(unlimited.LogQuotaHour);
        Assert.Equal(104_857_600_000, asked.Jobs[0].JobSpec.LogQuotaHour);
    }

    [Fact]
    public async Task RequestEqualToTheServerQuota_IsAccepted()
    {
        await using var server = Quota("2000");
        using var client = server.CreateAdminClient();

        var run = await client.SubmitAsync(new SubmitRunRequest(["true"], LogQuotaHour: 2000));

        Assert.Equal(2000, run.LogQuotaHour);
    }

    private static ServerFactory Quota(string value) =>
        new(new Dictionary<string, string> { ["DSTACK_SERVER_LOG_QUOTA_PER_JOB_HOUR"] = value });
}
