using System.Buffers;

namespace LogQuota.Runner.Execution;

/// <summary>
/// The buffers a job's output passes through while it is read and processed (the read buffer, the terminal's visible
/// text), shared by every job of the runner and held only while output is waiting: a runner of thousands of idle jobs
/// holds a few of them, not one of each per job.
/// </summary>
/// <remarks>
/// Not <see cref="ArrayPool{T}.Shared"/>: that pool keeps an array returned by a thread in that thread's own cache,
/// and each job's output is read on a thread of its own, so every job would keep one of each for its whole life.
/// </remarks>
internal static class OutputBuffers
{
    /// <summary>The largest buffer it pools: a read's 64 KiB.</summary>
    public const int MaxLength = 64 * 1024;

    /// <summary>As many of each size as jobs that are likely to be reading at the same moment; more are made and dropped.</summary>
    private const int KeptPerSize = 64;

    public static ArrayPool<byte> Pool { get; } = ArrayPool<byte>.Create(MaxLength, KeptPerSize);
}
