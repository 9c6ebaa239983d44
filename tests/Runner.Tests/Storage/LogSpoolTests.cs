using LogQuota.Runner.Storage;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Storage;

public sealed class LogSpoolTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("logquota-spool-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void AnEventWrittenInParts_IsInvisibleUntilCommitted_ThenReadsBackAsOneEvent()
    {
        using var spool = new LogSpool(Path.Combine(_directory, "log.spool"));
        spool.AppendPart("first line\n"u8);
        spool.AppendPart("second line\n"u8);

        var before = new List<LogEvent>();
        Assert.False(spool.Read(0, spool.Length, int.MaxValue, before));
        Assert.Empty(before);
        Assert.True(spool.HasOpenEvent);

        spool.CommitEvent(1000);
        var after = new List<LogEvent>();
        spool.Read(0, spool.Length, int.MaxValue, after);
        var only = Assert.Single(after);
        Assert.Equal(1000, only.Timestamp);
        Assert.Equal("first line\nsecond line\n"u8.ToArray(), only.Message);
        Assert.False(spool.HasOpenEvent);
    }

    [Fact]
    public void EventsCommittedOneAfterAnother_ReadBackInOrder_AndCommittingNothingOpenAddsNoEvent()
    {
        using var spool = new LogSpool(Path.Combine(_directory, "log.spool"));
        spool.AppendPart("a\n"u8);
        spool.CommitEvent(1);
        spool.CommitEvent(2); // nothing open: no event
        spool.AppendPart(ReadOnlySpan<byte>.Empty); // opens nothing
        spool.CommitEvent(3);
        spool.AppendPart("b\n"u8);
        spool.CommitEvent(4);

        var events = new List<LogEvent>();
        spool.Read(0, spool.Length, int.MaxValue, events);
        Assert.Equal([1L, 4L], events.Select(e => e.Timestamp));
        Assert.Equal("b\n"u8.ToArray(), events[1].Message);
    }
}
