using System.Runtime.InteropServices;

namespace LogQuota.Shared.Hosting;

/// <summary>
/// Gives memory back to the system once a burst of work is over. A .NET heap grows with a burst (a runner's thousand jobs,
/// each with its threads, screen and buffers), and the GC shrinks it only when it collects, which it does only when
/// something allocates: an idle service allocates next to nothing, so without this it keeps the burst's size for hours
/// (measured with <c>bench/memory.py</c>: a runner stayed 276 MiB above its idle size a minute after 1,000 jobs).
/// </summary>
/// <remarks>
/// Every <see cref="Interval"/> it looks at two things: how much was allocated since the last look, and the resident
/// size. When the last interval was quiet (less than <see cref="QuietBytes"/> allocated: no burst is going on) and the
/// resident size is at least <see cref="GrowthBytes"/> above what it was after the last return, it runs one blocking,
/// compacting, aggressive collection (<see cref="GCCollectionMode.Aggressive"/>: the GC decommits all it can, the
/// pooled arrays' memory included) and asks glibc to give its freed native memory back (<c>malloc_trim</c>). That costs
/// a full collection of a heap that is mostly garbage, tens of milliseconds, at most once per interval and only when idle.
/// </remarks>
public sealed partial class MemoryReturn : IDisposable
{
    /// <summary>How often the process is looked at.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    /// <summary>Allocation in one interval below which the process counts as idle: a server polling no job allocates well under 1 MiB per second.</summary>
    public const long QuietBytes = 16L << 20;

    /// <summary>Growth of the resident size since the last return worth a full collection: a quarter of the +64 MiB a service may keep after a burst.</summary>
    public const long GrowthBytes = 16L << 20;

    private readonly ITimer _timer;
    private readonly Action<long, long> _returned;
    private long _allocated = GC.GetTotalAllocatedBytes();
    private long _afterReturn = Environment.WorkingSet;
    private bool _trimUnavailable;

    /// <summary>Starts looking.</summary>
    /// <param name="time">The clock of the looks.</param>
    /// <param name="returned">Told the resident size before and after each return, in bytes (for the service's log).</param>
    public MemoryReturn(TimeProvider time, Action<long, long> returned)
    {
        ArgumentNullException.ThrowIfNull(time);
        _returned = returned;
        _timer = time.CreateTimer(_ => Look(), null, Interval, Interval);
    }

    /// <summary>Stops looking.</summary>
    public void Dispose() => _timer.Dispose();

    private void Look()
    {
        var allocated = GC.GetTotalAllocatedBytes();
        var quiet = allocated - _allocated < QuietBytes;
        _allocated = allocated;
        var before = Environment.WorkingSet;
        if (!quiet || before - _afterReturn < GrowthBytes)
        {
            // Busy, or nothing to give back: the baseline follows a resident size that shrank by itself.
            _afterReturn = Math.Min(_afterReturn, before);
            return;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        TrimNativeHeap();
        _allocated = GC.GetTotalAllocatedBytes();
        _afterReturn = Environment.WorkingSet;
        _returned(before, _afterReturn);
    }

    private void TrimNativeHeap()
    {
        if (_trimUnavailable || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            _ = MallocTrim(0);
        }
        catch (EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): the managed heap's return is all there is.
            _trimUnavailable = true;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
