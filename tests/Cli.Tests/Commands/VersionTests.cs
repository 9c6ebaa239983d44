using LogQuota.Cli.Tests.Infrastructure;
using LogQuota.Shared;

namespace LogQuota.Cli.Tests.Commands;

/// <summary>One version for the whole product, set once in Directory.Build.props.</summary>
public sealed class VersionTests
{
    [Fact]
    public async Task Version_IsTheProductVersion_AsTheHealthChecksReportIt()
    {
        var result = await CliProcess.RunAsync(null, "--version");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(ProductVersion.Value + "\n", result.StdoutText);
        Assert.Matches(@"^\d+\.\d+\.\d+$", ProductVersion.Value);
    }
}
