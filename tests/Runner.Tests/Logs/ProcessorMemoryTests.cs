using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// What one job's terminal costs in memory before it prints: a runner holds one per job, and thousands of jobs idle.
/// The normal screen (50 rows of 200 cells, 80 KB) is made at once; the alternate screen when a program first switches
/// to it, and the buffers of plain lines when they are needed.
/// </summary>
public sealed class ProcessorMemoryTests
{
    /// <summary>50 × 200 cells of 8 bytes: one screen's cells.</summary>
    private const long ScreenCells = 50 * 200 * 8;

    [Fact]
    public void ANewProcessor_HoldsOneScreen_AndLittleElse()
    {
        GC.KeepAlive(new TerminalProcessor()); // the types' own first use (statics, tables) is not one job's cost

        var made = Allocated(() => GC.KeepAlive(new TerminalProcessor()));

        // 227,720 bytes when both screens and a 32 KiB and a 16 KiB line buffer were made with it; 94,152 now.
        Assert.InRange(made, ScreenCells, ScreenCells + 24 * 1024);
    }

    [Fact]
    public void TheAlternateScreen_IsMadeWhenAProgramFirstSwitchesToIt_AndKept()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        processor.Process("before\r\n"u8, output);

        var first = Allocated(() => processor.Process("\e[?1049h\e[Hfull screen\e[?1049l"u8, output));
        var again = Allocated(() => processor.Process("\e[?1049h\e[Hagain\e[?1049l"u8, output));

        Assert.InRange(first, ScreenCells, long.MaxValue);
        Assert.InRange(again, 0, ScreenCells / 10);
        processor.Finish(output);
        Assert.Equal("before\n", Encoding.UTF8.GetString(output.WrittenSpan));
    }

    private static long Allocated(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
