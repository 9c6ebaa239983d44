using System.Collections.Concurrent;

namespace LogQuota.Server.Processing;

/// <summary>The runners whose stream this replica reads and whose last answer was stored (<see cref="RunnerStreams"/> writes,
/// <see cref="StreamedJobs"/> reads): a job there gets its events from the stream, not from a pull of its own.</summary>
internal sealed class CarriedStreams
{
    private readonly ConcurrentDictionary<string, bool> _carried = new(StringComparer.Ordinal);

    public bool Carries(string runner) => _carried.GetValueOrDefault(runner);

    /// <summary>True when the runner was carried until now.</summary>
    public bool Set(string runner, bool carried)
    {
        var before = _carried.GetValueOrDefault(runner, true);
        _carried[runner] = carried;
        return before;
    }
}
