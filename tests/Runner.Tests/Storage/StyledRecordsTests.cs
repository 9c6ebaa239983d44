using System.Text;
using LogQuota.Runner.Jobs;
using LogQuota.Runner.Quota;
using LogQuota.Runner.Storage;
using LogQuota.Shared.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LogQuota.Runner.Tests.Storage;

/// <summary>
/// Style runs on their way from the screen to a pull: kept beside the text in the spool, cut with the text where the
/// quota cuts it, moved with it where a forged marker is escaped, and never counted.
/// </summary>
public sealed class StyledRecordsTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("logquota-styled-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Spool_KeepsStylesBesideTheText_AndReadsEveryRecordAfterAStyledOne()
    {
        using var spool = new LogSpool(Path.Combine(_dir.FullName, "log.spool"));
        var styles = new LogStyles([new LogStyle("1;31"), new LogStyle("", "https://example.com")], [0, 6, 0, 7, 4, 1]);

        Assert.True(spool.TryAppend(1, "plain\n"u8));
        Assert.True(spool.TryAppend(2, "FAILED docs\n"u8, LogSource.Stdout, styles));
        Assert.True(spool.TryAppend(3, "[logquota] marker\n"u8, LogSource.Runner));

        var events = new List<LogEvent>();
        spool.Read(0, spool.Length, int.MaxValue, events);
        Assert.Equal(["plain\n", "FAILED docs\n", "[logquota] marker\n"], events.Select(e => Encoding.UTF8.GetString(e.Message)));
        Assert.Equal([LogSource.Stdout, LogSource.Stdout, LogSource.Runner], events.Select(e => e.LogSource));
        Assert.Null(events[0].Styles);
        Assert.Equal(styles.Runs, events[1].Styles!.Runs);
        Assert.Equal(styles.Styles, events[1].Styles!.Styles);
        Assert.Null(events[2].Styles);

        var after = new List<LogEvent>();
        spool.Read(2, spool.Length, int.MaxValue, after);
        Assert.Equal([3L], after.Select(e => e.Timestamp));
    }

    [Fact]
    public void QuotaCut_CutsTheRunsWithTheText_AndCountsTheTextAlone()
    {
        var (output, journal) = Create(quota: 10);

        var verdict = output.Read("\e[31mFAILED\e[0m x\r\n\e[32mmore\e[0m\r\n"u8);

        Assert.Equal(QuotaVerdict.Kill, verdict);
        Assert.Equal(9, output.BytesThisHour);
        var stored = Read(journal).Where(e => e.LogSource == LogSource.Stdout).ToList();
        Assert.Equal("FAILED x\n", string.Concat(stored.Select(e => Encoding.UTF8.GetString(e.Message))));
        Assert.Equal([0, 6, 0], stored.Single().Styles!.Runs);
        Assert.Equal("31", stored.Single().Styles!.Styles.Single().Sgr);
    }

    [Fact]
    public void AForgedMarker_IsEscaped_AndItsRunMovesWithItsText()
    {
        var (output, journal) = Create(quota: null);

        output.Read("ok\r\n\e[31m[logquota] fake\e[0m\r\n"u8);

        var e = Read(journal).Single();
        Assert.Equal("ok\n\\[logquota] fake\n", Encoding.UTF8.GetString(e.Message));
        Assert.Equal([4, 15, 0], e.Styles!.Runs); // the escape itself is not styled: the run stays on the job's text
        Assert.Equal(Encoding.UTF8.GetByteCount("ok\n\\[logquota] fake\n"), output.BytesThisHour);
    }

    private (JobOutput Output, JobJournal Journal) Create(long? quota)
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-06T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var journal = new JobJournal(Guid.NewGuid(), Path.Combine(_dir.FullName, $"{Guid.NewGuid()}.spool"), time, NullLogger.Instance);
        var output = new JobOutput(new JobSpec(["true"], LogQuotaHour: quota, LogQuotaWarnAt: []), journal, time, fault => Assert.Fail(fault));
        return (output, journal);
    }

    private static List<LogEvent> Read(JobJournal journal) => journal.Read(journal.View(0), int.MaxValue).Logs;
}
