using System.Text;
using LogQuota.Runner.Storage;
using LogQuota.Runner.Tests.Isolation;
using LogQuota.Shared.Contracts;

namespace LogQuota.Runner.Tests.Storage;

/// <summary>
/// The spool on a real full disk (a 1 MiB tmpfs this test mounts): a record without room is held, the records after it
/// wait behind it, and once room returns every record is stored once, in order, with timestamps given at the write.
/// </summary>
[Collection(IsolationTestsRunAlone.Name)]
public sealed class HeldRecordsTests
{
    [SkippableFact]
    public void OnAFullDisk_RecordsAreHeldInOrder_AndStoredOnceWhenRoomReturns()
    {
        using var disk = TinyDisk.Mount();
        using var spool = new LogSpool(Path.Combine(disk.Path, "log.spool"));
        long clock = 0;
        var storedBytes = 0;
        var held = new HeldRecords(spool, () => ++clock, bytes => storedBytes += bytes);

        Assert.False(held.Append("line 1\n"u8, LogSource.Stdout));
        disk.Fill();
        var record = Encoding.UTF8.GetBytes(new string('a', 8191) + "\n");
        var began = Enumerable.Range(0, 3).Select(_ => held.Append(record, LogSource.Stdout)).ToList();
        Assert.False(held.Append("[logquota] marker\n"u8, LogSource.Runner));

        Assert.Equal([true, false, false], began); // one stall, begun by the first record without room
        Assert.True(held.Stalled);
        Assert.Equal(3 * 8192 + 18, held.HeldBytes);
        Assert.False(held.TryStore());
        var committed = spool.Length;

        disk.Free();
        Assert.True(held.TryStore());
        Assert.False(held.Stalled);
        Assert.Equal(0, held.HeldBytes);
        Assert.Equal(0, held.LostBytes);

        var events = new List<LogEvent>();
        spool.Read(0, spool.Length, int.MaxValue, events);
        Assert.Equal(["line 1\n", .. Enumerable.Repeat(Encoding.UTF8.GetString(record), 3), "[logquota] marker\n"], events.Select(e => Encoding.UTF8.GetString(e.Message)));
        Assert.Equal([LogSource.Stdout, LogSource.Stdout, LogSource.Stdout, LogSource.Stdout, LogSource.Runner], events.Select(e => e.LogSource));
        // A held record takes its timestamp when it is written: after those of the two attempts that found no room.
        Assert.Equal([1L, 4, 5, 6, 7], events.Select(e => e.Timestamp));
        Assert.Equal(7 + (3 * 8192) + 18, storedBytes);
        Assert.True(committed < spool.Length);
    }

    [SkippableFact]
    public void GivenUp_DropsWhatIsHeld_AndCountsWhatFindsNoRoomAfter_WithoutHoldingIt()
    {
        using var disk = TinyDisk.Mount();
        using var spool = new LogSpool(Path.Combine(disk.Path, "log.spool"));
        long clock = 0;
        var held = new HeldRecords(spool, () => ++clock, _ => { });
        disk.Fill();

        Assert.True(held.Append(new byte[5000], LogSource.Stdout));
        Assert.Equal(5000, held.GiveUp());
        Assert.False(held.Stalled);
        Assert.False(held.Append(new byte[6000], LogSource.Stdout));
        Assert.False(held.Stalled);
        Assert.Equal(11000, held.LostBytes);
        Assert.Equal(0, spool.Length);
    }

    /// <summary>A 1 MiB tmpfs (root only), filled and freed on demand by a ballast file; unmounted on dispose.</summary>
    private sealed class TinyDisk : IDisposable
    {
        private TinyDisk(string path) => Path = path;

        public string Path { get; }

        private string Ballast => System.IO.Path.Combine(Path, "ballast");

        public static TinyDisk Mount()
        {
            var whyNot = Privileged.WhyNotRoot();
            Skip.If(whyNot is not null, whyNot);
            var path = Directory.CreateTempSubdirectory("logquota-held-").FullName;
            Privileged.Run("mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", path);
            return new TinyDisk(path);
        }

        /// <summary>Writes the ballast until the file system refuses more.</summary>
        public void Fill()
        {
            using var ballast = File.OpenHandle(Ballast, FileMode.CreateNew, FileAccess.Write);
            var block = new byte[4096];
            long offset = 0;
            try
            {
                while (true)
                {
                    RandomAccess.Write(ballast, block, offset);
                    offset += block.Length;
                }
            }
            catch (IOException e) when (LogSpool.IsOutOfRoom(e))
            {
            }
        }

        public void Free() => File.Delete(Ballast);

        public void Dispose()
        {
            Privileged.Run("umount", "-l", Path);
            Directory.Delete(Path);
        }
    }
}
