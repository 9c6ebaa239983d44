using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.Formatting;

public sealed class StatusColorsTests
{
    [Fact]
    public void OnlyFailedRuns_HighlightTheWholeRow()
    {
        foreach (var status in Enum.GetValues<RunStatus>())
        {
            Assert.Equal(status == RunStatus.Failed, StatusColors.HighlightsRow(status));
        }
    }

    [Theory]
    [InlineData(RunStatus.Failed, "red")]
    [InlineData(RunStatus.Running, "green")]
    [InlineData(RunStatus.Pending, "yellow")]
    [InlineData(RunStatus.Submitted, "yellow")]
    [InlineData(RunStatus.Terminating, "yellow")]
    [InlineData(RunStatus.Terminated, "grey")]
    [InlineData(RunStatus.Done, null)]
    public void StatusCell_IsColouredByStatus(RunStatus status, string? expected) =>
        Assert.Equal(expected, StatusColors.For(status)?.ToMarkup());
}
