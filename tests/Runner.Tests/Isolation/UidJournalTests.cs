using LogQuota.Runner.Configuration;
using LogQuota.Runner.Isolation;

namespace LogQuota.Runner.Tests.Isolation;

/// <summary>
/// The record of the uids a runner holds (<c>job-uids</c>) is a journal a start or an end appends a line to: a restarted
/// runner finds exactly the uids still held, whatever was taken and given back before, and the file stays small.
/// No job runs here: uids of a range no process or file of this machine has.
/// </summary>
public sealed class UidJournalTests : IDisposable
{
    // Far above the default range and any uid this machine gives out.
    private static readonly UidRange Range = new(3_900_000_000, 3_900_000_063);
    private readonly string _dir = Directory.CreateTempSubdirectory("logquota-uid-journal-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void ARestartedRunner_FindsExactlyTheUidsStillHeld_AfterHundredsOfStartsAndEnds()
    {
        var uids = new JobUids(Range, _dir);
        var held = new List<uint>();
        for (var i = 0; i < 600; i++)
        {
            held.Add(uids.Take());
            if (held.Count > 3)
            {
                uids.Release(held[0]);
                held.RemoveAt(0);
            }
        }

        var restarted = new JobUids(Range, _dir);
        Assert.Equal(held.Order(), restarted.ErasePredecessorsTraces().Select(e => e.Uid).Order());

        // Compacted on the way: 1,800 lines were appended (a start writes two, an end one).
        var lines = File.ReadAllLines(Path.Combine(_dir, "job-uids")).Length;
        Assert.True(lines <= JobUids.CompactAfter + 8, $"the journal has {lines} lines");
    }

    [Fact]
    public void ARestartedRunner_GoesOnFromThePosition_AndNeverHandsOutAUidItsPredecessorHolds()
    {
        var uids = new JobUids(Range, _dir);
        var first = uids.Take();
        var second = uids.Take();
        uids.Release(first);

        var restarted = new JobUids(Range, _dir);
        Assert.Equal([second], restarted.ErasePredecessorsTraces().Select(e => e.Uid));
        var next = restarted.Take();
        Assert.Equal(Range.First + ((second - Range.First + 1) % Range.Count), next);
    }

    [Fact]
    public void ALineWithoutItsLineFeed_IsNotRead()
    {
        var uids = new JobUids(Range, _dir);
        var taken = uids.Take();

        // A write cut short (the machine lost power) may end anywhere in a line; only whole lines are records.
        File.AppendAllText(Path.Combine(_dir, "job-uids"), $"free {taken}\nheld {Range.First + 7}");

        var restarted = new JobUids(Range, _dir);
        Assert.Empty(restarted.ErasePredecessorsTraces());
    }
}
