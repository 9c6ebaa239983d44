using LogQuota.Cli.Commands;
using LogQuota.Cli.Formatting;
using LogQuota.Shared.Contracts;

namespace LogQuota.Cli.Tests.Formatting;

public sealed class QuotaViewTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 2, 14, 0, 0, TimeSpan.Zero);

    private static readonly LogQuotaStatus Truncated = new(
        1000, LogQuotaAction.Truncate, 980, Start, Start.AddHours(1), 28_400, Start.AddMinutes(3),
        new LogQuotaReport(Start, [new RepeatedLine("loss=nan", 4723, 0), new RepeatedLine("step \u001b[2J", 12, 3)], [30_000, 120], 28_400, 4100));

    [Theory]
    [InlineData(0, 1000, "[------------------------------]")]
    [InlineData(500, 1000, "[###############---------------]")]
    [InlineData(1000, 1000, "[##############################]")]
    [InlineData(5000, 1000, "[##############################]")]
    public void Bar_FillsTheShareUsed(long used, long limit, string expected) =>
        Assert.Equal(expected, QuotaView.Bar(used, limit));

    [Theory]
    [InlineData(980, 1000L, "98%")]
    [InlineData(1300, 1000L, "130%")]
    [InlineData(10, null, "-")]
    public void Share_IsUncapped_AndADashWithoutAQuota(long used, long? limit, string expected) =>
        Assert.Equal(expected, QuotaView.Share(used, limit));

    [Fact]
    public void FinalLine_SaysWhenAndWhatWasDropped_OnlyWhenExceeded()
    {
        Assert.Equal("log quota: 1000B/h (truncate), exceeded at 14:03:00 UTC; 27.7KiB dropped", QuotaView.FinalLine(Truncated));
        Assert.Null(QuotaView.FinalLine(Truncated with { ExceededAt = null }));
        Assert.Null(QuotaView.FinalLine(null));
    }

    [Fact]
    public void Show_PrintsWhatAProvisioningRunWaitsFor_BelowItsStatus()
    {
        var run = new RunDetails(
            "queued", RunStatus.Submitted, "provisioning", null, null, null, null, Start, null, null, 0, false, null,
            [], [new RunEvent(Start.AddSeconds(1), JobEventTypes.SlurmPending, "Slurm job 12 is pending: Resources")], "Slurm job 12 is pending: Resources");

        var lines = ShowCommand.Format(run, Start.AddMinutes(1)).ToList();

        Assert.Equal("waiting:    Slurm job 12 is pending: Resources", lines[2]);
        Assert.Equal("  14:00:01 UTC  slurm_pending       Slurm job 12 is pending: Resources", lines[^1]);
    }

    [Fact]
    public void Show_PrintsStatusQuotaBlockTopLinesAndEvents()
    {
        var run = new RunDetails(
            "noisy", RunStatus.Done, "exited (0)", null, null, null, 0, Start, Start.AddMinutes(5), 1000, 980, true, Truncated,
            [], [new RunEvent(Start.AddMinutes(3), JobEventTypes.LogQuotaExceeded, "log quota of 1000 B for this hour reached")]);

        var lines = ShowCommand.Format(run, Start.AddMinutes(10)).ToList();

        Assert.Equal("status:     done (exited (0)), log truncated", lines[1]);
        Assert.Contains("log quota:  1000B/h, action truncate", lines);
        Assert.Contains("  [#############################-] 980B of 1000B (98%) this hour, resets at 15:00:00 UTC", lines);
        Assert.Contains("  dropped:  27.7KiB (28400 bytes)", lines);
        Assert.Contains("          4723×  loss=nan", lines);
        Assert.Contains("          9–12×  step \\x1b[2J", lines); // job output is data: the escape is shown, never sent
        Assert.Contains("    bytes per minute: 29.3KiB 120B", lines);
        Assert.Equal("  14:03:00 UTC  log_quota_exceeded  log quota of 1000 B for this hour reached", lines[^1]);
    }
}
