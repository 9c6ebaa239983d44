using System.Collections.Concurrent;
using LogQuota.Server.Data.Faults;

namespace LogQuota.Server.Processing;

/// <summary>The runners whose stream this replica reads and whose last answer was stored (<see cref="RunnerStreams"/> writes,
/// <see cref="StreamedJobs"/> reads): a job there gets its events from the stream, not from a pull of its own.</summary>
internal sealed class CarriedStreams
{
    private readonly ConcurrentDictionary<string, bool> _carried = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (StorageFault Fault, Guid[] Jobs)> _storeFaults = new(StringComparer.Ordinal);

    public bool Carries(string runner) => _carried.GetValueOrDefault(runner);

    /// <summary>True when the runner was carried until now.</summary>
    public bool Set(string runner, bool carried)
    {
        var before = _carried.GetValueOrDefault(runner, true);
        _carried[runner] = carried;
        return before;
    }

    /// <summary>An answer of <paramref name="runner"/>'s stream could not be stored: the database cannot be written.</summary>
    public void StoreFailed(string runner, StorageFault fault, IEnumerable<Guid> jobs) => _storeFaults[runner] = (fault, [.. jobs]);

    public void StoreSucceeded(string runner) => _storeFaults.TryRemove(runner, out _);

    /// <summary>
    /// The jobs whose stream answers the database does not take now, with why: the job processor's passes count them as
    /// their own stalled pages, so the backoff, the health check and the <c>pull_stalled</c> events are the same
    /// whichever way a job's events come.
    /// </summary>
    public List<(Guid JobId, StorageFault Fault)> StoreFaults() =>
        [.. _storeFaults.Values.SelectMany(f => f.Jobs.Length == 0 ? [(Guid.Empty, f.Fault)] : f.Jobs.Select(j => (j, f.Fault)))];
}
