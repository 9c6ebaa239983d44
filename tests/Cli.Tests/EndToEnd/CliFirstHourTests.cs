using System.Net.Http.Json;
using LogQuota.Cli.Connection;
using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared.Contracts;
using LogQuota.Shared.Json;

namespace LogQuota.Cli.Tests.EndToEnd;

/// <summary>The edges a new user meets in the first hour: delete, a quota above the server's, a name the server would refuse.</summary>
[Collection(LocalServerGroup.Name)]
public sealed class CliFirstHourTests(LocalServer server)
{
    [Fact]
    public async Task Delete_RemovesAFinishedRun_AndAsksToStopARunningOneFirst()
    {
        Assert.Equal(0, (await Cli("run", "--name", "e2e-delete-me", "--", "echo bye")).ExitCode);

        var deleted = await Cli("delete", "e2e-delete-me");

        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal("deleted run e2e-delete-me\n", deleted.StdoutText);
        var gone = await Cli("logs", "e2e-delete-me");
        Assert.Equal(["error: run e2e-delete-me not found"], gone.StderrLines);

        using var admin = server.CreateAdminHttpClient();
        using (var submitted = await admin.PostAsJsonAsync(new Uri("/api/runs", UriKind.Relative),
                   new SubmitRunRequest(["sleep 60"], RunName: "e2e-delete-busy"), LogQuotaJson.Options))
        {
            submitted.EnsureSuccessStatusCode();
        }

        var refused = await Cli("delete", "e2e-delete-busy");
        Assert.Equal(0, (await Cli("stop", "e2e-delete-busy")).ExitCode);

        Assert.Equal(1, refused.ExitCode);
        var line = Assert.Single(refused.StderrLines);
        Assert.StartsWith("error: run e2e-delete-busy has not finished (", line, StringComparison.Ordinal);
        Assert.EndsWith("); stop it first: logquota stop e2e-delete-busy", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QuotaAboveTheServers_IsRefusedInTheCommandLinesTerms()
    {
        var result = await Cli("run", "--name", "e2e-greedy", "--log-quota", "100MiB", "--", "true");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(["error: --log-quota 100MiB is above the server's quota of 50MiB/h; ask for 50MiB or less"], result.StderrLines);
    }

    [Theory]
    [InlineData("café")]
    [InlineData("Upper")]
    [InlineData("1st")]
    public async Task ANameTheServerWouldRefuse_IsAUsageError(string name)
    {
        var result = await Cli("run", "--name", name, "--", "true");

        Assert.Equal(CliException.UsageExitCode, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: --name must be a lowercase letter", line, StringComparison.Ordinal);
        Assert.Contains(name, line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(52428800L, "50MiB")]
    [InlineData(1536L, "1.5KiB")]
    [InlineData(1000L, "1000B")]
    public void Quotas_AreShownInTheUnitsTheOptionTakes(long bytes, string expected) =>
        Assert.Equal(expected, ByteCount.Compact(bytes));

    private Task<CliResult> Cli(params string[] args) => CliProcess.RunAsync(server.CliEnvironment, args);
}
