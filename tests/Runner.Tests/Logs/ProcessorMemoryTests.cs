using System.Buffers;
using System.Text;
using LogQuota.Runner.Logs;

namespace LogQuota.Runner.Tests.Logs;

/// <summary>
/// What one job's terminal costs in memory before it prints: a runner holds one per job, and thousands of jobs idle.
/// A screen row's 200 cells (1.6 KB) are made when the row is first written or read, so a new processor holds none, a
/// job that prints plain lines none (they are stored without the screen), a progress bar the rows it redraws, and a
/// full-screen program the whole screen (50 rows, 80 KB); the alternate screen is made when a program first switches
/// to it, and the buffers of plain lines when they are needed.
/// </summary>
public sealed class ProcessorMemoryTests
{
    /// <summary>200 cells of 8 bytes: one row's cells.</summary>
    private const long RowCells = 200 * 8;

    /// <summary>50 rows: one screen's cells.</summary>
    private const long ScreenCells = 50 * RowCells;

    [Fact]
    public void ANewProcessor_HoldsNoRowsCells()
    {
        GC.KeepAlive(new TerminalProcessor()); // the types' own first use (statics, tables) is not one job's cost

        var made = Allocated(() => GC.KeepAlive(new TerminalProcessor()));

        // 227,720 bytes when both screens and a 32 KiB and a 16 KiB line buffer were made with it; 94,152 with the
        // normal screen's cells; 13,344 without them.
        Assert.InRange(made, 0, 16 * 1024);
    }

    [Fact]
    public void PlainLinesTakeNoRow_ARedrawTheRowsItWrote_UpToOneScreen()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        processor.Process("warm-up\r\n"u8, output); // the first line's own work (buffers of plain lines) is not a row's cost

        // Plain lines are stored without the screen; a progress bar redraws a row; a full-screen program writes every row.
        var plain = Allocated(() => processor.Process("one\r\ntwo\r\nthree\r\n"u8, output));
        var bar = Allocated(() => processor.Process("10%\r50%\r100%\r\n"u8, output));
        var screen = Allocated(() => processor.Process(Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(1, 50).Select(i => $"\e[{i};1Hrow {i}"))), output));

        Assert.InRange(plain, 0, RowCells / 2);
        Assert.InRange(bar, RowCells, 8 * RowCells); // 8,120 bytes: the row, and the screen path's own first use
        Assert.InRange(screen, ScreenCells - (3 * RowCells), ScreenCells + (16 * 1024));
        Assert.StartsWith("warm-up\none\ntwo\nthree\n", Encoding.UTF8.GetString(output.WrittenSpan), StringComparison.Ordinal);
    }

    [Fact]
    public void TheAlternateScreen_IsMadeWhenAProgramFirstSwitchesToIt_AndKept()
    {
        var processor = new TerminalProcessor();
        var output = new ArrayBufferWriter<byte>();
        processor.Process("before\r\n"u8, output);

        var first = Allocated(() => processor.Process("\e[?1049h\e[Hfull screen\e[?1049l"u8, output));
        var again = Allocated(() => processor.Process("\e[?1049h\e[Hagain\e[?1049l"u8, output));

        // The screen's rows, not yet their cells: the program wrote one row.
        Assert.InRange(first, RowCells, long.MaxValue);
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
