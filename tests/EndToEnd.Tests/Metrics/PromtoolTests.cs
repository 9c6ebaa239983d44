namespace LogQuota.EndToEnd.Tests.Metrics;

/// <summary>The shipped <c>deploy/prometheus</c> files, checked by Prometheus's own <c>promtool</c>.</summary>
public sealed class PromtoolTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-promtool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [SkippableFact]
    public async Task ShippedConfig_IsValid_WithItsRuleFileAndTokenFiles()
    {
        var promtool = PrometheusBinaries.Require(PrometheusBinaries.Promtool, "promtool");

        // promtool checks that the token files exist; in the compose stack entrypoint.sh writes them beside the config.
        CopyDeployFiles("prometheus.yml", "alerts.yml");
        await File.WriteAllTextAsync(Path.Combine(_dir, "server-token"), "not-a-real-token-0123456789");
        await File.WriteAllTextAsync(Path.Combine(_dir, "runner-token"), "not-a-real-token-0123456789");

        var (code, output) = await PrometheusBinaries.RunAsync(promtool, "check", "config", Path.Combine(_dir, "prometheus.yml"));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS: 4 rules found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ShippedConfig_HoldsNoToken_OnlyTokenFiles()
    {
        var config = await File.ReadAllTextAsync(Path.Combine(PrometheusBinaries.DeployDirectory, "prometheus.yml"));

        Assert.DoesNotContain("credentials:", config, StringComparison.Ordinal);
        Assert.DoesNotContain("bearer_token:", config, StringComparison.Ordinal);
        Assert.Equal(2, config.Split("credentials_file:").Length - 1);
    }

    [SkippableFact]
    public async Task ShippedRules_AreValid()
    {
        var promtool = PrometheusBinaries.Require(PrometheusBinaries.Promtool, "promtool");

        var (code, output) = await PrometheusBinaries.RunAsync(promtool, "check", "rules", Path.Combine(PrometheusBinaries.DeployDirectory, "alerts.yml"));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS: 4 rules found", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task RuleUnitTests_MakeEachAlertFireAndNotFire()
    {
        var promtool = PrometheusBinaries.Require(PrometheusBinaries.Promtool, "promtool");

        var (code, output) = await PrometheusBinaries.RunAsync(promtool, "test", "rules", Path.Combine(PrometheusBinaries.DeployDirectory, "alerts.test.yml"));

        Assert.True(code == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("> 0.8", "> 0.95")]
    [InlineData("[5m]", "[1m]")]
    [InlineData("for: 1m", "for: 5m")]
    [InlineData("> 60", "> 600")]
    public async Task RuleUnitTests_FailForAWeakenedRule(string original, string weakened)
    {
        var promtool = PrometheusBinaries.Require(PrometheusBinaries.Promtool, "promtool");
        CopyDeployFiles("alerts.test.yml");
        var rules = await File.ReadAllTextAsync(Path.Combine(PrometheusBinaries.DeployDirectory, "alerts.yml"));
        Assert.Contains(original, rules, StringComparison.Ordinal);
        await File.WriteAllTextAsync(Path.Combine(_dir, "alerts.yml"), rules.Replace(original, weakened, StringComparison.Ordinal));

        var (code, output) = await PrometheusBinaries.RunAsync(promtool, "test", "rules", Path.Combine(_dir, "alerts.test.yml"));

        Assert.True(code != 0, $"the unit tests passed with '{original}' weakened to '{weakened}':\n{output}");
    }

    private void CopyDeployFiles(params string[] names)
    {
        foreach (var name in names)
        {
            File.Copy(Path.Combine(PrometheusBinaries.DeployDirectory, name), Path.Combine(_dir, name));
        }
    }
}
